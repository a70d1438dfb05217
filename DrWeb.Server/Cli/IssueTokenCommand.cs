using System.CommandLine;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Cli;

/// <summary><c>issue-token --email E</c>: an API token for an existing user, from the shell (scripts, benchmarks).</summary>
internal static class IssueTokenCommand
{
    public static Command Create()
    {
        var email = new Option<string>("--email") { Description = "The user the token acts as.", Required = true };
        var name = new Option<string>("--name") { Description = "A name to recognise the token by.", DefaultValueFactory = _ => "command line" };
        var command = new Command("issue-token", "Issue an API token for a user of the app's database (the secret is printed once).") { email, name };
        command.SetAction(async (parse, token) =>
        {
            var configuration = DrWebCommandLine.ConfigurationFromAppFolder();
            var options = Options.Create(configuration.GetSection(DrWebOptions.Section).Get<DrWebOptions>() ?? new DrWebOptions());
            var data = new DataFolder(options);
            var database = options.Value.Database;
            bool sqlite = database.Provider == DatabaseProvider.Sqlite;
            var factory = DrWebDatabase.Factory(database.Provider, DrWebDatabase.ConnectionString(configuration, database, data));
            await using (var db = await factory.CreateDbContextAsync(token))
            {
                if (sqlite && !File.Exists(data.DatabasePath) || await db.Users.FirstOrDefaultAsync(u => u.Email == parse.GetValue(email), token) is not { } user)
                {
                    parse.InvocationConfiguration.Error.WriteLine($"error: no user '{parse.GetValue(email)}' in the {database.Provider} database{(sqlite ? " " + data.DatabasePath : "")}. Start the app once and create the user first.");
                    return 2;
                }
                var (_, secret) = await new ApiTokenService(factory, new AuditLog(factory)).IssueAsync(AuditAction.System + " (command line)", user.Id, parse.GetValue(name)!, token);
                parse.InvocationConfiguration.Output.WriteLine(secret);
            }
            return 0;
        });
        return command;
    }
}
