using DrWeb.Ml.Inference;
using DrWeb.Ml.Models;
using DrWeb.Server.Hosting;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Services;

/// <summary>
/// The model screening grades with, loaded once and shared by all users. Until a registry exists (issue 5) it is the
/// configured model folder, else the bundled starter model.
/// </summary>
public sealed class ActiveModel(IOptions<DrWebOptions> options, StarterModel starter, ModelEngine engine, ILogger<ActiveModel> logger) : IDisposable
{
    private readonly Lazy<(Grader? Grader, string Version, string? Problem)> _loaded = new(() =>
    {
        string folder = string.IsNullOrWhiteSpace(options.Value.Screening.ModelFolder) ? starter.Folder : options.Value.Screening.ModelFolder!;
        if (!engine.IsReady)
            return (null, "", $"The model engine is not running: {engine.Status}");
        if (!ModelDirectory.IsModelDirectory(folder))
            return (null, "", "No model yet: train one or import one.");
        try
        {
            var (model, manifest) = ModelDirectory.Load(folder);
            string version = Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/')) + (manifest.Label is null ? "" : $" ({manifest.Label})");
            logger.LogInformation("Screening model loaded: {Version}", version);
            return (new Grader(model, manifest.Preprocessing), version, null);
        }
        catch (Exception e) when (e is CheckpointException or IOException or InvalidDataException)
        {
            logger.LogError(e, "Screening model could not be loaded from {Folder}", folder);
            return (null, "", $"The model in {folder} could not be loaded: {e.Message}");
        }
    });

    public Grader? Grader => _loaded.Value.Grader;
    public string Version => _loaded.Value.Version;

    /// <summary>Why there is no grader, or null.</summary>
    public string? Problem => _loaded.Value.Problem;

    public void Dispose()
    {
        if (_loaded.IsValueCreated) _loaded.Value.Grader?.Dispose();
    }
}
