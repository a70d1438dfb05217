using DrWeb.Ml.Calibration;
using DrWeb.Ml.Explain;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Models;
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

    public Grader(FundusClassifier model, Preprocessing preprocessing, CamMethod? cam = null, Device? device = null, ReferralPolicy? referral = null)
    {
        Model = model;
        _referral = referral ?? ReferralPolicy.ArgmaxGrade;
        Preprocessing = preprocessing;
        Cam = cam ?? new GradCam();
        _device = device ?? (TorchRuntime.IsInitialized ? TorchRuntime.Device : CPU);
        Model.to(_device);
        Model.SetTrainingMode(false);
    }

    private volatile ReferralPolicy _referral;

    public FundusClassifier Model { get; }

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
        using var view = ModelInput.Prepare(image.Pixels, Preprocessing);
        return Grade(view, explain, camLayer);
    }

    /// <summary>Grades a view already prepared with this grader's <see cref="Preprocessing"/> (so it can be shown and stored too).</summary>
    public GradingResult Grade(ModelView view, bool explain = true, string? camLayer = null)
    {
        RequireViewFor(view);
        _gate.Wait();
        try
        {
            using var scope = NewDisposeScope();
            Tensor input = ModelInput.ToTensor(view, Preprocessing).unsqueeze(0).to(_device);
            float[] logits;
            CamResult? cam = null;
            if (explain)
            {
                // The CAM pass computes the logits on the way, so explaining costs no second forward.
                cam = Cam.Compute(Model, input, camLayer)[0];
                logits = cam.Logits;
            }
            else
            {
                using var _ = no_grad();
                logits = Model.call(input).cpu().data<float>().ToArray();
            }
            var referral = Referral;
            var probabilities = referral.Probabilities(logits);
            int grade = probabilities.MostLikely;
            return new GradingResult(probabilities, grade, DrGrade.Name(grade), referral.Decide(probabilities), cam);
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
        using var view = ModelInput.Prepare(image.Pixels, Preprocessing);
        return Explain(view, classes, camLayer);
    }

    /// <summary><see cref="Explain(FundusImage, IReadOnlyList{int}, string?)"/> for a view already prepared with this grader's preprocessing.</summary>
    public (GradeProbabilities Probabilities, IReadOnlyList<CamResult> Explanations) Explain(ModelView view, IReadOnlyList<int> classes,
        string? camLayer = null)
    {
        RequireViewFor(view);
        if (classes.Count == 0) throw new ArgumentException("Name at least one class to explain.", nameof(classes));
        _gate.Wait();
        try
        {
            using var scope = NewDisposeScope();
            Tensor one = ModelInput.ToTensor(view, Preprocessing).unsqueeze(0).to(_device);
            Tensor input = one.expand(classes.Count, -1, -1, -1).contiguous();
            var cams = Cam.Compute(Model, input, camLayer, classes.ToArray());
            return (Referral.Probabilities(cams[0].Logits), cams);
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
