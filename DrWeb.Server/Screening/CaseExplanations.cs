using DrWeb.Ml.Explain;
using DrWeb.Ml.Imaging;
using DrWeb.Server.Platform;
using DrWeb.Server.Registry;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Screening;

/// <summary>A stored photograph explained again with another method, target or layer.</summary>
/// <param name="OnModelView">Whether the overlay is drawn on the picture the model saw rather than on the photograph.</param>
public sealed record CaseExplanation(string ModelVersion, string Method, string Description, bool OnModelView, byte[] OverlayPng);

/// <summary>
/// Heatmaps of a stored photograph on demand, with the active model: a doctor who asked for Grad-CAM of the predicted
/// grade can look at P(referable) or another method without uploading again. Results are cached per (image, model,
/// method, layer, target), so switching back is instant, and the cache is bounded.
/// </summary>
public sealed class CaseExplanations(ActiveModel activeModel, IImageStore store, IOptions<DrWebOptions> options)
{
    private readonly RecentlyUsed<string, CaseExplanation> _cache = new(capacity: 128);
    private readonly ImageDecoder _decoder = new(options.Value.Images);

    /// <summary>The active model's layers, for the layer selector; empty without a model.</summary>
    public IReadOnlyList<string> Layers()
    {
        using var lease = activeModel.Acquire();
        return lease?.Grader.Model.CamLayers ?? [];
    }

    /// <summary>The heatmap of <paramref name="imageHash"/>; null when no model is active or the image is gone.</summary>
    /// <exception cref="ArgumentException">An unknown method, target or layer, with the names that exist.</exception>
    public async Task<CaseExplanation?> ExplainAsync(string imageHash, string method, string? layer, string target, CancellationToken token = default)
    {
        var cam = CamMethods.Parse(method);
        var camTarget = CamTarget.Parse(target);
        using var lease = activeModel.Acquire();
        if (lease is null || !store.Contains(imageHash)) return null;
        var model = lease.Grader.Model;
        layer = string.IsNullOrWhiteSpace(layer) ? model.DefaultCamLayer : layer;
        if (!model.CamLayers.Contains(layer))
            throw new ArgumentException($"The model has no layer '{layer}'. Its layers: {string.Join(", ", model.CamLayers)}.");
        string key = $"{imageHash}|{lease.Version}|{cam.Name}|{layer}|{camTarget.Name}";
        if (_cache.TryGet(key, out var cached)) return cached;
        var grader = lease.Grader;
        string version = lease.Version;
        var explanation = await Task.Run(() =>
        {
            using var photograph = _decoder.Decode(store.Read(imageHash));
            using var view = grader.PrepareView(photograph);
            var result = grader.Grade(view, explain: true, layer, cam, camTarget);
            return new CaseExplanation(version, cam.Name, CamMethods.Describe(cam.Name, camTarget.Name, layer), view.Prepared,
                HeatmapOverlay.RenderPng(view.HeatmapBase(photograph.Pixels), result.Explanation!.Raw));
        }, token);
        _cache.Set(key, explanation);
        return explanation;
    }
}
