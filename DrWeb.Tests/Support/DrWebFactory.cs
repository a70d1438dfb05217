using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;

namespace DrWeb.Tests.Support;

/// <summary>The real app in a test host, with its data folder in a temporary directory that is removed afterwards.</summary>
public sealed class DrWebFactory : WebApplicationFactory<Program>
{
    private readonly TempFolder _data = new();

    public DrWebFactory() => TorchSetup.Ensure();

    public string DataFolder => _data.Path;

    public Dictionary<string, string?> Settings { get; } = [];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.ConfigureAppConfiguration(config => config.AddInMemoryCollection(
            new Dictionary<string, string?> { ["DrWeb:DataFolder"] = _data.Path }.Concat(Settings)));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) _data.Dispose();
    }
}
