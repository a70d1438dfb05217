using DrWeb.Ml.Architectures;
using DrWeb.Ml.Data;
using DrWeb.Ml.Explain;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace DrWeb.Ml.Inference;

/// <summary>One graded photograph.</summary>
public sealed record GradingResult(
    GradeProbabilities Probabilities,
    int Grade,
    string GradeName,
    ReferableDecision Referable,
    CamResult? Explanation);

/// <summary>
/// A trained model together with the preprocessing it was trained with and a CAM method: photographs in, grades and
/// heatmaps out. Thread-safe: concurrent calls are serialised, because parallel forwards on a small CPU only fight
/// over the same cores and multiply peak memory.
/// </summary>
public sealed class Grader : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Device _device;

    /// <param name="flipAverage">Average each view with its mirror image (the model's <c>TestTimeFlip</c>).</param>
    public Grader(FundusClassifier model, Preprocessing preprocessing, CamMethod? cam = null, Device? device = null, ReferralPolicy? referral = null,
        bool flipAverage = false)
    {
        Model = model;
        FlipAverage = flipAverage;
        _referral = referral ?? ReferralPolicy.ArgmaxGrade;
        Preprocessing = preprocessing;
        Cam = cam ?? new GradCam();
        _device = device ?? (TorchRuntime.IsInitialized ? TorchRuntime.Device : CPU);
        Model.to(_device);
        Model.SetTrainingMode(false);
    }

    private volatile ReferralPolicy _referral;

    public FundusClassifier Model { get; }

    /// <summary>Whether gradings average the view with its mirror image.</summary>
    public bool FlipAverage { get; }

    /// <summary>Temperature and operating point; replaced atomically when an admin moves the operating point.</summary>
    public ReferralPolicy Referral
    {
        get => _referral;
        set => _referral = value ?? throw new ArgumentNullException(nameof(value));
    }
    public Preprocessing Preprocessing { get; }
    public CamMethod Cam { get; }

    /// <summary>Grades the image and, when <paramref name="explain"/> is set, explains the predicted grade.</summary>
    public GradingResult Grade(FundusImage image, bool explain = true, string? camLayer = null)
    {
        using var view = PrepareView(image);
        return Grade(view, explain, camLayer);
    }

    /// <summary>
    /// What this model sees of <paramref name="image"/>: its preprocessing applied (crop, colour recipe, size). Pass the
    /// quality gate's <paramref name="fundus"/> location to skip finding the fundus again.
    /// </summary>
    public ModelView PrepareView(FundusImage image, FundusLocation? fundus = null) => ModelInput.Prepare(image.Pixels, Preprocessing, fundus);

    /// <summary>Grades a view already prepared with this grader's <see cref="Preprocessing"/> (so it can be shown and stored too).</summary>
    /// <param name="method">The CAM method; null for the grader's <see cref="Cam"/>.</param>
    /// <param name="target">What the heatmap explains; null for the predicted grade.</param>
    public GradingResult Grade(ModelView view, bool explain = true, string? camLayer = null, CamMethod? method = null, CamTarget? target = null)
    {
        var cam = method ?? Cam;
        target ??= CamTarget.Predicted;
        RequireViewFor(view);
        _gate.Wait();
        try
        {
            using var scope = NewDisposeScope();
            Tensor input = ModelInput.ToTensor(view, Preprocessing).unsqueeze(0).to(_device);
            var referral = Referral;
            CamResult? explanation = null;
            GradeProbabilities probabilities;
            if (FlipAverage)
            {
                // Both views' logits first, so that the heatmap explains the grade the averaged probabilities give.
                float[][] views;
                using (no_grad())
                {
                    var both = Model.call(cat([input, input.flip(3)], 0)).cpu();
                    views = [both[0].data<float>().ToArray(), both[1].data<float>().ToArray()];
                }
                probabilities = referral.Probabilities(views);
                if (explain) explanation = cam.Compute(Model, input, camLayer, target, target.Grade is null ? [probabilities.MostLikely] : null)[0];
            }
            else if (explain)
            {
                // The CAM pass computes the logits on the way, so explaining costs no second forward.
                explanation = cam.Compute(Model, input, camLayer, target)[0];
                probabilities = referral.Probabilities(explanation.Logits);
            }
            else
            {
                using var _ = no_grad();
                probabilities = referral.Probabilities(Model.call(input).cpu().data<float>().ToArray());
            }
            int grade = probabilities.MostLikely;
            return new GradingResult(probabilities, grade, DrGrade.Name(grade), referral.Decide(probabilities), explanation);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Explains several classes for one image in a single batched CAM pass, e.g. the predicted and the true grade of a
    /// validation image ("why X rather than Y").
    /// </summary>
    public (GradeProbabilities Probabilities, IReadOnlyList<CamResult> Explanations) Explain(FundusImage image, IReadOnlyList<int> classes,
        string? camLayer = null)
    {
        using var view = PrepareView(image);
        return Explain(view, classes, camLayer);
    }

    /// <summary><see cref="Explain(FundusImage, IReadOnlyList{int}, string?)"/> for a view already prepared with this grader's preprocessing.</summary>
    public (GradeProbabilities Probabilities, IReadOnlyList<CamResult> Explanations) Explain(ModelView view, IReadOnlyList<int> classes,
        string? camLayer = null, CamMethod? method = null)
    {
        RequireViewFor(view);
        if (classes.Count == 0) throw new ArgumentException("Name at least one class to explain.", nameof(classes));
        _gate.Wait();
        try
        {
            using var scope = NewDisposeScope();
            Tensor one = ModelInput.ToTensor(view, Preprocessing).unsqueeze(0).to(_device);
            Tensor input = one.expand(classes.Count, -1, -1, -1).contiguous();
            var cams = (method ?? Cam).Compute(Model, input, camLayer, classes.ToArray());
            if (!FlipAverage) return (Referral.Probabilities(cams[0].Logits), cams);
            float[] mirrored;
            using (no_grad())
                mirrored = Model.call(one.flip(3)).cpu().data<float>().ToArray();
            return (Referral.Probabilities([cams[0].Logits, mirrored]), cams);
        }
        finally
        {
            _gate.Release();
        }
    }

    private void RequireViewFor(ModelView view)
    {
        if (!view.MadeFor(Preprocessing))
            throw new ArgumentException(
                $"This view was made for another model's preprocessing ({view.Preprocessing.InputSize} px, crop {view.Preprocessing.CropFundus}, " +
                $"recipe {view.Preprocessing.Recipe}); prepare it with this grader's Preprocessing.", nameof(view));
    }

    public void Dispose()
    {
        Model.Dispose();
        _gate.Dispose();
    }
}
