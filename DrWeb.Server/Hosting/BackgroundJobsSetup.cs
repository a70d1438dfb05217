using DrWeb.Server.Accounts;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Training;
using Hangfire;
using Hangfire.Dashboard;
using Hangfire.PostgreSql;
using Hangfire.Storage.SQLite;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Hosting;

/// <summary>
/// Hangfire on the app's database provider (SQLite in the data folder, or PostgreSQL shared by every node), one worker
/// per node (one model trains at a time and screening keeps the other core), queues by role, and the dashboard for admins.
/// </summary>
public static class BackgroundJobsSetup
{
    public const string DashboardPath = "/hangfire";

    public static IServiceCollection AddDrWebJobs(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddHangfire((sp, config) =>
        {
            var options = sp.GetRequiredService<IOptions<DrWebOptions>>().Value;
            config.SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings();
            var requeueAfter = options.Training.RequeueAbandonedAfterFor(options.Database.Provider);
            if (options.Database.Provider == DatabaseProvider.Postgres)
            {
                string connection = DrWebDatabase.ConnectionString(configuration, options.Database, sp.GetRequiredService<DataFolder>());
                config.UsePostgreSqlStorage(o => o.UseNpgsqlConnection(connection), new PostgreSqlStorageOptions
                {
                    SchemaName = "hangfire",
                    QueuePollInterval = options.Training.QueuePollInterval,
                    InvisibilityTimeout = requeueAfter,
                    // A running job's fetch time is renewed in the background, so only a dead worker's job reappears.
                    UseSlidingInvisibilityTimeout = true,
                    PrepareSchemaIfNecessary = true,
                });
            }
            else
            {
                config.UseSQLiteStorage(Path.Combine(sp.GetRequiredService<DataFolder>().Root, "hangfire.db"), new SQLiteStorageOptions
                {
                    QueuePollInterval = options.Training.QueuePollInterval,
                    InvisibilityTimeout = requeueAfter,
                });
            }
        });
        if (configuration.GetValue($"{DrWebOptions.Section}:Training:RunJobs", true))
        {
            services.AddHangfireServer((sp, server) =>
            {
                var node = sp.GetRequiredService<NodeIdentity>();
                // Hangfire adds the process id and a unique suffix: "train-a:1520:32eb27db-...".
                server.ServerName = node.Name;
                // Only training nodes take model work; every node may run the schedules that enqueue it.
                server.Queues = node.Has(NodeIdentity.Training) ? [JobQueues.Compute, JobQueues.Scheduling] : [JobQueues.Scheduling];
                server.WorkerCount = 1;
                server.SchedulePollingInterval = TimeSpan.FromSeconds(1);
                server.CancellationCheckInterval = TimeSpan.FromSeconds(1);
                server.HeartbeatInterval = TimeSpan.FromSeconds(10);
                server.ServerCheckInterval = TimeSpan.FromSeconds(30);
                server.ServerTimeout = TimeSpan.FromMinutes(1);
                server.ShutdownTimeout = TimeSpan.FromSeconds(30);
            });
        }
        return services;
    }

    public static WebApplication MapDrWebJobs(this WebApplication app)
    {
        app.MapHangfireDashboard(DashboardPath, new DashboardOptions
        {
            Authorization = [new AdminDashboardAuthorization()],
            AppPath = "/training",
            DashboardTitle = "DrWeb jobs",
        }).RequireAuthorization(policy => policy.RequireRole(AccountSetup.Admin));
        // The endpoint's own authorization sends an anonymous visitor to the sign-in page (and a signed-in non-admin
        // gets 403); the dashboard filter below stays as a second check.
        return app;
    }
}

/// <summary>
/// Lets only signed-in admins into the Hangfire dashboard. (Hangfire's default admits local requests only, which is
/// both too open on a shared host and too closed behind a proxy.)
/// </summary>
public sealed class AdminDashboardAuthorization : IDashboardAuthorizationFilter
{
    public bool Authorize(DashboardContext context) => context.GetHttpContext().User.IsInRole(AccountSetup.Admin);
}
