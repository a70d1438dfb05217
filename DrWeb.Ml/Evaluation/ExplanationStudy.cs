using System.Diagnostics;
using DrWeb.Ml.Architectures;
using DrWeb.Ml.Data;
using DrWeb.Ml.Explain;
using DrWeb.Ml.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace DrWeb.Ml.Evaluation;

/// <summary>A photograph for an explanation study: a lesion atlas case has masks; a labelled image only a grade.</summary>
public sealed record StudyImage(string Id, string Path, int? Grade, IReadOnlyDictionary<string, string> Masks)
{
    public static StudyImage From(LesionCase c) => new(c.Id, c.ImagePath, c.Grade, c.Masks);
    public static StudyImage From(LabelledImage image) => new(image.Id, image.Path, image.Grade, new Dictionary<string, string>());
}

/// <summary>What an explanation study measures and how.</summary>
public sealed record ExplanationStudyOptions
{
    /// <summary>Method names (see <see cref="CamMethods"/>); empty for all.</summary>
    public IReadOnlyList<string> Methods { get; init; } = [];

    /// <summary>The layer explained; null for the model's default.</summary>
    public string? Layer { get; init; }

    public CamTarget Target { get; init; } = CamTarget.Predicted;

    /// <summary>Deletion and insertion curves, and ROAD.</summary>
    public bool Faithfulness { get; init; } = true;

    /// <summary>The model-randomisation check; needs a randomised copy of the model.</summary>
    public bool SanityCheck { get; init; } = true;

    public int Steps { get; init; } = PerturbationCurves.DefaultSteps;

    /// <summary>Also measure a random map of the layer's resolution (<see cref="RandomMapBaseline"/>), the level any method must beat.</summary>
    public bool RandomBaseline { get; init; } = true;

    /// <summary>How many images get a figure row (photograph, outlines, vessels, every method's overlay) in the report.</summary>
    public int FigureImages { get; init; } = 4;

    public IReadOnlyList<CamMethod> ResolveMethods() =>
        Methods.Count == 0 ? CamMethods.Names.Select(CamMethods.Parse).ToList() : Methods.Select(CamMethods.Parse).DistinctBy(m => m.Name).ToList();
}

/// <summary>One method on one photograph.</summary>
public sealed record StudyMeasurement(string Image, string Method, int? TrueGrade, int PredictedGrade, double ReferableProbability, int TargetClass,
    double DeletionAuc, double InsertionAuc, double RoadScore, double SanityRankCorrelation, LesionAgreement? Lesions, double Seconds);

/// <summary>A region's mean shares over the images with masks.</summary>
public sealed record RegionSummary(string Region, double EnergyShare, double AreaShare)
{
    /// <summary>Mean energy share over mean area share.</summary>
    public double Enrichment => AreaShare > 0 ? EnergyShare / AreaShare : double.NaN;
}

/// <summary>One method over the whole study. NaN where nothing was measured.</summary>
public sealed record MethodSummary(string Method, string DisplayName, int Images, double DeletionAuc, double InsertionAuc, double RoadScore,
    double SanityRankCorrelation, int SanityMapsVanished, int PointingHits, int PointingImages, double PointingChance, double LesionAuroc,
    IReadOnlyList<RegionSummary> Regions, double SecondsPerImage)
{
    public double PointingRate => PointingImages > 0 ? (double)PointingHits / PointingImages : double.NaN;

    /// <summary>
    /// A region's enrichment relative to the fundus as a whole rather than the whole view: a heatmap that merely stays
    /// off the black surround enriches every fundus region, so 1 here means no preference among fundus regions.
    /// </summary>
    public double WithinFundus(string region)
    {
        var r = Regions.FirstOrDefault(x => x.Region == region);
        var outside = Regions.FirstOrDefault(x => x.Region == FundusRegions.OutsideRegion);
        if (r is null || outside is null || outside.AreaShare >= 1) return double.NaN;
        double fundus = (1 - outside.EnergyShare) / (1 - outside.AreaShare);
        return fundus > 0 ? r.Enrichment / fundus : double.NaN;
    }
}

/// <summary>A figure row for the report: PNGs of the view, the expert outlines, the vessel map and each method's overlay.</summary>
public sealed record StudyFigure(string Image, byte[] View, byte[]? Outlines, byte[]? Vessels, IReadOnlyDictionary<string, byte[]> Overlays);

/// <summary>An explanation study's result.</summary>
public sealed record ExplanationStudyResult(string Model, string Dataset, string Layer, string Target, int Steps, bool Randomised,
    IReadOnlyList<MethodSummary> Methods, IReadOnlyList<StudyMeasurement> Measurements, DateTime FinishedUtc)
{
    /// <summary>Figures are written as files beside the report, not into the JSON.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<StudyFigure> Figures { get; init; } = [];
}

/// <summary>
/// How far to trust each CAM method on one model, over a set of photographs: faithfulness (deletion and insertion
/// AUC, ROAD), the model-randomisation sanity check, and, for photographs with expert masks, where the heatmap falls
/// (energy share and enrichment by region, the pointing game, the heatmap as a lesion detector).
/// </summary>
public static class ExplanationStudy
{
    /// <summary>The photographs of a folder: a lesion atlas's cases (with masks) or a labelled dataset's images.</summary>
    public static IReadOnlyList<StudyImage> ImagesIn(string folder) => LesionAtlas.IsAtlas(folder)
        ? LesionAtlas.Read(folder).Select(StudyImage.From).ToList()
        : DatasetReader.Read(folder).Images.Select(StudyImage.From).ToList();

    /// <param name="randomised">A copy of <paramref name="model"/> whose trained layers were randomised (<see cref="SanityCheck.RandomiseTrainedLayers"/>); null skips the check.</param>
    /// <param name="progress">Called after each image with (done, total).</param>
    public static ExplanationStudyResult Run(FundusClassifier model, FundusClassifier? randomised, Preprocessing preprocessing, string modelName,
        string datasetName, IReadOnlyList<StudyImage> images, ExplanationStudyOptions options, Action<int, int>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var methods = options.ResolveMethods();
        var measured = options.RandomBaseline ? [.. methods, new RandomMapBaseline(seed: 0)] : methods;
        string layer = options.Layer ?? model.DefaultCamLayer;
        if (!model.CamLayers.Contains(layer))
            throw new ArgumentException($"{model.Architecture} has no layer '{layer}'. Its layers: {string.Join(", ", model.CamLayers)}.");
        model.SetTrainingMode(false);
        randomised?.SetTrainingMode(false);
        if (!options.SanityCheck) randomised = null;
        var device = model.parameters().First().device;

        var decoder = new ImageDecoder();
        var measurements = new List<StudyMeasurement>();
        var figures = new List<StudyFigure>();
        int done = 0;
        foreach (var image in images)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var photograph = decoder.Decode(image.Path);
            using var view = ModelInput.Prepare(photograph.Pixels, preprocessing);
            var masked = image.Masks.Count > 0 ? MaskedView.Load(image.Masks, photograph.Pixels, view) : null;
            var regions = masked?.Regions;
            var overlays = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            using var imageScope = NewDisposeScope();
            Tensor x = ModelInput.ToTensor(view, preprocessing).unsqueeze(0).to(device);
            foreach (var method in measured)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var clock = Stopwatch.StartNew();
                using var scope = NewDisposeScope();
                var cam = method.Compute(model, x, layer, options.Target)[0];
                int targetClass = cam.ExplainsReferable ? 0 : cam.TargetClass;
                var probabilities = Softmax(cam.Logits);
                double deletion = double.NaN, insertion = double.NaN, road = double.NaN, sanity = double.NaN;
                if (options.Faithfulness)
                {
                    var curve = PerturbationCurves.Measure(model, x, cam.Map, options.Target, targetClass, options.Steps);
                    (deletion, insertion) = (curve.DeletionAuc, curve.InsertionAuc);
                    road = Road.MostRelevantFirst(model, x, cam.Map, options.Target, targetClass).Mean;
                }
                if (randomised is not null && method is not RandomMapBaseline)
                {
                    var after = method.Compute(randomised, x, layer, options.Target, cam.ExplainsReferable ? null : [cam.TargetClass])[0];
                    sanity = SanityCheck.RankCorrelation(cam.Map.Values, after.Map.Values);
                }
                var lesions = regions is null ? null : HeatmapAgreement.Measure(cam.Map, regions);
                measurements.Add(new StudyMeasurement(image.Id, method.Name, image.Grade, Array.IndexOf(probabilities, probabilities.Max()),
                    probabilities.Skip(DrGrade.ReferableFrom).Sum(), cam.TargetClass, deletion, insertion, road, sanity, lesions, clock.Elapsed.TotalSeconds));
                if (figures.Count < options.FigureImages && method is not RandomMapBaseline)
                    overlays[method.Name] = HeatmapOverlay.RenderPng(view.HeatmapBase(photograph.Pixels), cam.Raw);
            }
            if (figures.Count < options.FigureImages)
                figures.Add(Figure(image, view, masked, overlays));
            progress?.Invoke(++done, images.Count);
        }
        return new ExplanationStudyResult(modelName, datasetName, layer, options.Target.Name, options.Steps, randomised is not null,
            measured.Select(m => Summarise(m, measurements.Where(r => r.Method == m.Name).ToList(), randomised is not null && m is not RandomMapBaseline)).ToList(),
            measurements, DateTime.UtcNow)
        { Figures = figures };

        static StudyFigure Figure(StudyImage image, ModelView view, MaskedView? masked, Dictionary<string, byte[]> overlays)
        {
            using var png = new MemoryStream();
            view.Image.SaveAsPng(png);
            return new StudyFigure(image.Id, png.ToArray(),
                masked is null ? null : LesionOutlines.DrawPng(view.Image, masked.Masks.Select(m => (m.Value, LesionKinds.Colour(m.Key)))),
                masked is null ? null : LesionOutlines.DrawPng(view.Image, [(masked.Vessels, LesionKinds.VesselColour)]),
                overlays);
        }
    }

    private static double[] Softmax(float[] logits)
    {
        double max = logits.Max();
        var e = logits.Select(l => Math.Exp(l - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }

    private static MethodSummary Summarise(CamMethod method, IReadOnlyList<StudyMeasurement> rows, bool randomised)
    {
        static double Mean(IEnumerable<double> values)
        {
            var finite = values.Where(double.IsFinite).ToList();
            return finite.Count == 0 ? double.NaN : finite.Average();
        }
        var withLesions = rows.Where(r => r.Lesions is not null).ToList();
        var regionNames = withLesions.SelectMany(r => r.Lesions!.Regions.Select(s => s.Region)).Distinct().ToList();
        var regions = regionNames.Select(name =>
        {
            var shares = withLesions.Select(r => r.Lesions!.Regions.FirstOrDefault(s => s.Region == name)).Where(s => s is not null).ToList();
            return new RegionSummary(name, Mean(shares.Select(s => s!.EnergyShare)), Mean(shares.Select(s => s!.AreaShare)));
        }).ToList();
        var pointing = withLesions.Where(r => r.Lesions!.PointingHit is not null).ToList();
        return new MethodSummary(method.Name, method.DisplayName, rows.Count, Mean(rows.Select(r => r.DeletionAuc)), Mean(rows.Select(r => r.InsertionAuc)),
            Mean(rows.Select(r => r.RoadScore)), Mean(rows.Select(r => r.SanityRankCorrelation)),
            randomised ? rows.Count(r => double.IsNaN(r.SanityRankCorrelation)) : 0,
            pointing.Count(r => r.Lesions!.PointingHit == true), pointing.Count, Mean(pointing.Select(r => r.Lesions!.PointingChance)),
            Mean(withLesions.Select(r => r.Lesions!.LesionAuroc)), regions,
            Mean(rows.Select(r => r.Seconds)));
    }
}
