using DrWeb.Server.Cli;
using DrWeb.Server.Hosting;

// One executable, two faces: command-line verbs (predict, bench, ...) and, by default, the web app.
if (DrWebCommandLine.IsCommandLine(args))
    return await DrWebCommandLine.InvokeAsync(args);

// appsettings.json and the static web assets live beside the executable, wherever it is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = DrWebCommandLine.WebArguments(args),
    ContentRootPath = AppContext.BaseDirectory,
});
builder.AddDrWeb();

var app = builder.Build();
app.MapDrWeb();
await app.RunAsync();
return 0;

/// <summary>Entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
