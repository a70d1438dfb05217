using DrWeb.Ml.Torch;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Platform;

/// <summary>
/// Loads libtorch when the app starts, with the configured threads, wait policy and device, and reports whether it
/// could. A machine where libtorch cannot load still serves the app; the pages then say why grading is unavailable.
/// </summary>
public sealed class TorchStartup(IOptions<DrWebOptions> options, ILogger<TorchStartup> logger) : IHostedService
{
    public bool IsReady { get; private set; }

    /// <summary>What libtorch runs on, or why it does not run.</summary>
    public string Status { get; private set; } = "starting";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            TorchRuntime.Initialize(options.Value.Torch);
            IsReady = true;
            Status = TorchRuntime.Describe();
            logger.LogInformation("libtorch ready: {Status}", Status);
        }
        catch (Exception e) when (e is TorchRuntime.TorchUnavailableException or ArgumentException)
        {
            Status = e.Message;
            logger.LogError(e, "libtorch unavailable");
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
