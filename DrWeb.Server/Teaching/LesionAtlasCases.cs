using DrWeb.Ml.Data;
using DrWeb.Ml.Explain;
using DrWeb.Ml.Imaging;
using DrWeb.Server.Platform;
using DrWeb.Server.Registry;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace DrWeb.Server.Teaching;

/// <summary>A lesion atlas case on the active model's view: the view, the expert outline layers and the vessel map.</summary>
public sealed record AtlasCaseView(LesionCase Case, string ModelVersion, byte[] ViewPng, IReadOnlyDictionary<string, byte[]> OutlineLayers,
    byte[] VesselLayer, double LesionShareOfView);

/// <summary>One method's heatmap on an atlas case, with how it falls on the expert masks and, when asked, its faithfulness on this image.</summary>
public sealed record AtlasExplanation(string Method, string DisplayName, string Layer, string Target, int ExplainedGrade, byte[] OverlayPng,
    LesionAgreement Agreement, double? DeletionAuc, double? InsertionAuc);

/// <summary>
/// The lesion teaching view's data: the configured atlas (<c>DrWeb:Teaching:LesionAtlasFolder</c>), each case's
/// masks projected onto the active model's view, and heatmaps of any method with their agreement. Maps are cached per
/// (image, model, method, layer, target), so switching back to a method is instant; work on the model runs one at a time.
/// </summary>
public sealed class LesionAtlasCases(IOptions<DrWebOptions> options, ActiveModel activeModel) : IDisposable
{
    private const int CacheEntries = 256;
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private readonly object _cacheGate = new();
    private readonly Dictionary<string, (AtlasExplanation Value, long Used)> _explanations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (AtlasCaseView View, MaskedView Masks, long Used)> _views = new(StringComparer.Ordinal);
    private long _clock;

    public string? Folder => options.Value.Teaching.LesionAtlasFolder is { Length: > 0 } f && LesionAtlas.IsAtlas(f) ? f : null;

    /// <summary>Why the atlas is unavailable, or null.</summary>
    public string? Problem => options.Value.Teaching.LesionAtlasFolder is not { Length: > 0 } f
        ? "No lesion atlas is configured. Set DrWeb:Teaching:LesionAtlasFolder to a folder with images/ and masks/ (the IDRiD segmentation layout)."
        : LesionAtlas.IsAtlas(f) ? null : $"The lesion atlas folder '{f}' has no images/ and masks/ folders. Point DrWeb:Teaching:LesionAtlasFolder at an IDRiD-layout folder.";

    public IReadOnlyList<LesionCase> List() => Folder is { } f ? LesionAtlas.Read(f) : [];

    public LesionCase? Find(string id) => List().FirstOrDefault(c => c.Id == id);

    /// <summary>The case on the active model's view; null when there is no such case or no model.</summary>
    public async Task<AtlasCaseView?> ViewAsync(string id, CancellationToken token = default) =>
        (await PrepareAsync(id, token))?.View;

    /// <summary>A method's heatmap on the case, from the cache when it was computed before.</summary>
    public async Task<AtlasExplanation?> ExplainAsync(string id, string method, string? layer, string target, bool faithfulness,
        CancellationToken token = default)
    {
        var cam = CamMethods.Parse(method);
        var camTarget = CamTarget.Parse(target);
        var prepared = await PrepareAsync(id, token);
        if (prepared is null) return null;
        using var lease = activeModel.Acquire();
        if (lease is null) return null;
        var model = lease.Grader.Model;
        layer ??= model.DefaultCamLayer;
        if (!model.CamLayers.Contains(layer)) throw new ArgumentException($"The model has no layer '{layer}'. Its layers: {string.Join(", ", model.CamLayers)}.");
        string key = $"{id}|{lease.Version}|{cam.Name}|{layer}|{camTarget.Name}";
        lock (_cacheGate)
            if (_explanations.TryGetValue(key, out var hit) && (!faithfulness || hit.Value.DeletionAuc is not null))
            {
                _explanations[key] = (hit.Value, ++_clock);
                return hit.Value;
            }

        await _oneAtATime.WaitAsync(token);
        try
        {
            var explanation = await Task.Run(() =>
            {
                using var scope = NewDisposeScope();
                using var photograph = new ImageDecoder().Decode(prepared.Value.View.Case.ImagePath);
                using var view = lease.Grader.PrepareView(photograph);
                var device = model.parameters().First().device;
                Tensor x = ModelInput.ToTensor(view, lease.Grader.Preprocessing).unsqueeze(0).to(device);
                var result = cam.Compute(model, x, layer, camTarget)[0];
                var agreement = HeatmapAgreement.Measure(result.Map, prepared.Value.Masks.Regions);
                double? deletion = null, insertion = null;
                if (faithfulness)
                {
                    var curve = PerturbationCurves.Measure(model, x, result.Map, camTarget, result.ExplainsReferable ? 0 : result.TargetClass);
                    (deletion, insertion) = (curve.DeletionAuc, curve.InsertionAuc);
                }
                return new AtlasExplanation(cam.Name, cam.DisplayName, layer, camTarget.Name, result.TargetClass,
                    HeatmapOverlay.RenderPng(view.HeatmapBase(photograph.Pixels), result.Raw), agreement, deletion, insertion);
            }, token);
            Remember(_explanations, key, explanation);
            return explanation;
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    private async Task<(AtlasCaseView View, MaskedView Masks)?> PrepareAsync(string id, CancellationToken token)
    {
        var atlasCase = Find(id);
        if (atlasCase is null) return null;
        using var lease = activeModel.Acquire();
        if (lease is null) return null;
        string key = $"{id}|{lease.Version}";
        lock (_cacheGate)
            if (_views.TryGetValue(key, out var hit))
            {
                _views[key] = (hit.View, hit.Masks, ++_clock);
                return (hit.View, hit.Masks);
            }
        var grader = lease.Grader;
        string version = lease.Version;
        var prepared = await Task.Run(() =>
        {
            using var photograph = new ImageDecoder().Decode(atlasCase.ImagePath);
            using var view = grader.PrepareView(photograph);
            var masks = MaskedView.Load(atlasCase.Masks, photograph.Pixels, view);
            using var png = new MemoryStream();
            SixLabors.ImageSharp.ImageExtensions.SaveAsPng(view.Image, png);
            var layers = masks.Masks.ToDictionary(m => m.Key, m => LesionOutlines.LayerPng(m.Value, masks.Size, LesionKinds.Colour(m.Key)), StringComparer.Ordinal);
            var lesionShare = masks.Regions.Lesions.Sum(v => (double)v) / (masks.Size * masks.Size);
            return (View: new AtlasCaseView(atlasCase, version, png.ToArray(), layers,
                LesionOutlines.LayerPng(masks.Vessels, masks.Size, LesionKinds.VesselColour), lesionShare), Masks: masks);
        }, token);
        lock (_cacheGate)
        {
            _views[key] = (prepared.View, prepared.Masks, ++_clock);
            if (_views.Count > 32) _views.Remove(_views.MinBy(v => v.Value.Used).Key);
        }
        return prepared;
    }

    private void Remember(Dictionary<string, (AtlasExplanation Value, long Used)> cache, string key, AtlasExplanation value)
    {
        lock (_cacheGate)
        {
            cache[key] = (value, ++_clock);
            if (cache.Count > CacheEntries) cache.Remove(cache.MinBy(e => e.Value.Used).Key);
        }
    }

    public void Dispose() => _oneAtATime.Dispose();
}
