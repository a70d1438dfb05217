namespace DrWeb.Server.Platform;

/// <summary>
/// Hangfire's queues. Model work (training, explanation studies) shares one queue served by one worker, so a server
/// runs one heavy job at a time and screening keeps the other core.
/// </summary>
public static class JobQueues
{
    public const string Compute = "training";
    public const string Scheduling = "scheduling";
}
