using DrWeb.Ml.Torch;
using DrWeb.Server.Hosting;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Services;

/// <summary>
/// Loads libtorch when the app starts, with the configured threads, wait policy and device, and reports whether it
/// could. A machine where libtorch cannot load still serves the app; the pages then say why grading is unavailable.
/// </summary>
public sealed class ModelEngine(IOptions<DrWebOptions> options, ILogger<ModelEngine> logger) : IHostedService
{
    public bool IsReady { get; private set; }

    /// <summary>What the engine runs on, or why it does not run.</summary>
    public string Status { get; private set; } = "starting";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            TorchRuntime.Initialize(options.Value.Torch);
            IsReady = true;
            Status = TorchRuntime.Describe();
            logger.LogInformation("Model engine ready: {Status}", Status);
        }
        catch (Exception e) when (e is TorchRuntime.TorchUnavailableException or ArgumentException)
        {
            Status = e.Message;
            logger.LogError(e, "Model engine unavailable");
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
