using System.CommandLine;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Cli;

/// <summary>
/// <c>migrate</c>: applies the configured database's migrations on their own (before starting nodes with
/// <c>DrWeb:Database:MigrateAtStartup=false</c>). <c>migrate --from-sqlite DATA</c>: moves the SQLite installation in the
/// data folder DATA (its <c>drweb.db</c> and <c>images/</c>) into the configured database and image store, and checks it.
/// </summary>
internal static class MigrateCommand
{
    public static Command Create()
    {
        var from = new Option<DirectoryInfo?>("--from-sqlite")
        {
            Description = "Copy the SQLite installation in this data folder (drweb.db, images/) into the configured database, which must be empty.",
        };
        var command = new Command("migrate", "Apply the configured database's migrations (ConnectionStrings:DrWeb, DrWeb:Database:Provider), or move a SQLite installation into it.") { from };
        command.SetAction(async (parse, token) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var configuration = DrWebCommandLine.ConfigurationFromAppFolder();
            var options = Options.Create(configuration.GetSection(DrWebOptions.Section).Get<DrWebOptions>() ?? new DrWebOptions());
            var data = new DataFolder(options);
            var database = options.Value.Database;
            IDbContextFactory<DrWebDbContext> target;
            try
            {
                target = DrWebDatabase.Factory(database.Provider, DrWebDatabase.ConnectionString(configuration, database, data));
            }
            catch (InvalidOperationException e)
            {
                error.WriteLine("error: " + e.Message);
                return 2;
            }
            try
            {
                if (parse.GetValue(from) is not { } sourceFolder)
                {
                    await using var db = await target.CreateDbContextAsync(token);
                    var pending = (await db.Database.GetPendingMigrationsAsync(token)).ToList();
                    DrWebDatabase.Migrate(db);
                    output.WriteLine($"{database.Provider}: {pending.Count} migration(s) applied{(pending.Count > 0 ? ": " + string.Join(", ", pending) : "")}; the database is up to date.");
                    return 0;
                }
                string sqlite = Path.Combine(sourceFolder.FullName, "drweb.db");
                if (!File.Exists(sqlite))
                {
                    error.WriteLine($"error: no SQLite installation in {sourceFolder.FullName} (expected drweb.db there). Name the old DrWeb:DataFolder.");
                    return 2;
                }
                var source = DrWebDatabase.Factory(DatabaseProvider.Sqlite, $"Data Source={sqlite}");
                await using (var db = await source.CreateDbContextAsync(token))
                    DrWebDatabase.Migrate(db);
                var sourceImages = new FolderImageStore(new DataFolder(Options.Create(new DrWebOptions { DataFolder = sourceFolder.FullName })));
                IImageStore targetImages = database.ImageStore == ImageStoreKind.Database ? new DatabaseImageStore(target) : new FolderImageStore(data);
                output.WriteLine($"Moving {sourceFolder.FullName} into {database.Provider} (images: {database.ImageStore})...");
                var counts = await InstallationMove.CopyAsync(source, sourceImages, target, targetImages, output, token);
                var wrong = counts.Where(c => !c.Matches).ToList();
                if (wrong.Count > 0)
                {
                    foreach (var c in wrong) error.WriteLine($"error: {c.What}: {c.Source} in the source, {c.Target} in the target.");
                    return 1;
                }
                output.WriteLine($"Moved and checked: {counts.Count - 1} tables, {counts.Sum(c => c.What.StartsWith("images") ? 0 : c.Source)} rows, {counts[^1].Source} images.");
                return 0;
            }
            catch (Exception e) when (e is InvalidOperationException or InvalidDataException or System.Data.Common.DbException or DbUpdateException)
            {
                error.WriteLine("error: " + e.Message);
                return 1;
            }
        });
        return command;
    }
}
