using DrWeb.Server.Accounts;
using DrWeb.Server.Platform;
using DrWeb.Server.Training;
using Hangfire;
using Hangfire.Dashboard;
using Hangfire.Storage.SQLite;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Hosting;

/// <summary>
/// Hangfire with persistent SQLite storage in the data folder, one worker serving the training queue (one model
/// trains at a time and screening keeps the other core), and the dashboard for admins.
/// </summary>
public static class BackgroundJobsSetup
{
    public const string DashboardPath = "/hangfire";

    public static IServiceCollection AddDrWebJobs(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddHangfire((sp, config) =>
        {
            var options = sp.GetRequiredService<IOptions<DrWebOptions>>().Value.Training;
            string database = Path.Combine(sp.GetRequiredService<DataFolder>().Root, "hangfire.db");
            config.SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings()
                .UseSQLiteStorage(database, new SQLiteStorageOptions
                {
                    QueuePollInterval = options.QueuePollInterval,
                    InvisibilityTimeout = options.RequeueAbandonedAfter,
                });
        });
        if (configuration.GetValue($"{DrWebOptions.Section}:Training:RunJobs", true))
        {
            services.AddHangfireServer((sp, server) =>
            {
                server.ServerName = $"drweb-{Environment.MachineName}-{Environment.ProcessId}";
                server.Queues = [JobQueues.Compute, JobQueues.Scheduling];
                server.WorkerCount = 1;
                server.SchedulePollingInterval = TimeSpan.FromSeconds(1);
                server.CancellationCheckInterval = TimeSpan.FromSeconds(1);
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
