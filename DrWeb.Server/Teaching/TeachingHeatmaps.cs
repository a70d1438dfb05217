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

/// <summary>
/// One method's heatmap on a teaching photograph, with how it falls on the expert masks (atlas cases only) and, when
/// asked, its deletion and insertion AUC on this image.
/// </summary>
public sealed record TeachingHeatmap(string Method, string DisplayName, string Layer, string Target, int ExplainedGrade, byte[] OverlayPng,
    LesionAgreement? Agreement, double? DeletionAuc, double? InsertionAuc);

/// <summary>
/// Heatmaps on demand for teaching, with the active model: the lesion atlas (<c>DrWeb:Teaching:LesionAtlasFolder</c>),
/// each case's masks projected onto the model's view and any method's heatmap with its agreement; and any method on a
/// gallery photograph, for comparing methods. Maps are cached per (image, model, method, layer, target), so switching
/// back to a method is instant; work on the model runs one at a time.
/// </summary>
public sealed class TeachingHeatmaps(IOptions<DrWebOptions> options, ActiveModel activeModel, IImageStore store) : IDisposable
{
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private readonly RecentlyUsed<string, TeachingHeatmap> _heatmaps = new(capacity: 256);
    private readonly RecentlyUsed<string, (AtlasCaseView View, MaskedView Masks)> _views = new(capacity: 32);
    private IReadOnlyList<LesionCase>? _cases;

    public string? Folder => options.Value.Teaching.LesionAtlasFolder is { Length: > 0 } f && LesionAtlas.IsAtlas(f) ? f : null;

    /// <summary>Why the atlas is unavailable, or null.</summary>
    public string? Problem => options.Value.Teaching.LesionAtlasFolder is not { Length: > 0 } f
        ? "No lesion atlas is configured. Set DrWeb:Teaching:LesionAtlasFolder to a folder with images/ and masks/ (the IDRiD segmentation layout)."
        : LesionAtlas.IsAtlas(f) ? null : $"The lesion atlas folder '{f}' has no images/ and masks/ folders. Point DrWeb:Teaching:LesionAtlasFolder at an IDRiD-layout folder.";

    /// <summary>The atlas's cases, read from its folder once (the folder is configuration, not something users change).</summary>
    public IReadOnlyList<LesionCase> List() => Folder is { } f ? _cases ??= LesionAtlas.Read(f) : [];

    public LesionCase? Find(string id) => List().FirstOrDefault(c => c.Id == id);

    /// <summary>The case on the active model's view; null when there is no such case or no model.</summary>
    public async Task<AtlasCaseView?> ViewAsync(string id, CancellationToken token = default) =>
        (await PrepareAsync(id, token))?.View;

    /// <summary>A method's heatmap on an atlas case, with its agreement with the masks; from the cache when it was computed before.</summary>
    public async Task<TeachingHeatmap?> ExplainAsync(string id, string method, string? layer, string target, bool faithfulness,
        CancellationToken token = default)
    {
        var prepared = await PrepareAsync(id, token);
        if (prepared is null) return null;
        string path = prepared.Value.View.Case.ImagePath;
        return await HeatmapAsync("atlas:" + id, () => new ImageDecoder().Decode(path), prepared.Value.Masks.Regions, method, layer, target, faithfulness, token);
    }

    /// <summary>A method's heatmap on a stored photograph (a gallery case); null when it is not stored or no model is active.</summary>
    public Task<TeachingHeatmap?> ExplainStoredAsync(string imageHash, string method, string? layer, string target, bool faithfulness,
        CancellationToken token = default) =>
        store.Contains(imageHash)
            ? HeatmapAsync("image:" + imageHash, () => new ImageDecoder(options.Value.Images).Decode(store.Read(imageHash)), null, method, layer, target,
                faithfulness, token)
            : Task.FromResult<TeachingHeatmap?>(null);

    private async Task<TeachingHeatmap?> HeatmapAsync(string image, Func<FundusImage> open, FundusRegions? regions, string method, string? layer,
        string target, bool faithfulness, CancellationToken token)
    {
        var cam = CamMethods.Parse(method);
        var camTarget = CamTarget.Parse(target);
        using var lease = activeModel.Acquire();
        if (lease is null) return null;
        var model = lease.Grader.Model;
        layer ??= model.DefaultCamLayer;
        if (!model.CamLayers.Contains(layer)) throw new ArgumentException($"The model has no layer '{layer}'. Its layers: {string.Join(", ", model.CamLayers)}.");
        string key = $"{image}|{lease.Version}|{cam.Name}|{layer}|{camTarget.Name}";
        if (_heatmaps.TryGet(key, out var cached) && (!faithfulness || cached.DeletionAuc is not null)) return cached;

        await _oneAtATime.WaitAsync(token);
        try
        {
            var heatmap = await Task.Run(() =>
            {
                using var scope = NewDisposeScope();
                using var photograph = open();
                using var view = lease.Grader.PrepareView(photograph);
                var device = model.parameters().First().device;
                Tensor x = ModelInput.ToTensor(view, lease.Grader.Preprocessing).unsqueeze(0).to(device);
                var result = cam.Compute(model, x, layer, camTarget)[0];
                var agreement = regions is null ? null : HeatmapAgreement.Measure(result.Map, regions);
                double? deletion = null, insertion = null;
                if (faithfulness)
                {
                    var curve = PerturbationCurves.Measure(model, x, result.Map, camTarget, result.ExplainsReferable ? 0 : result.TargetClass);
                    (deletion, insertion) = (curve.DeletionAuc, curve.InsertionAuc);
                }
                return new TeachingHeatmap(cam.Name, cam.DisplayName, layer, camTarget.Name, result.TargetClass,
                    HeatmapOverlay.RenderPng(view.HeatmapBase(photograph.Pixels), result.Raw), agreement, deletion, insertion);
            }, token);
            _heatmaps.Set(key, heatmap);
            return heatmap;
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
        if (_views.TryGet(key, out var cached)) return cached;
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
        _views.Set(key, prepared);
        return prepared;
    }

    public void Dispose() => _oneAtATime.Dispose();
}
