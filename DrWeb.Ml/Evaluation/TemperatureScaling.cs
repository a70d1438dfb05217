using DrWeb.Ml.Data;
using DrWeb.Ml.Manifest;

namespace DrWeb.Ml.Evaluation;

/// <summary>
/// Temperature scaling (Guo et al., 2017): one number T divides every logit, chosen to minimise the negative
/// log-likelihood of held-out grades. It changes how confident the model is, never which grade it ranks first. The
/// order of images by P(referable), a sum of three probabilities, can shift a little, so AUC is measured after it.
/// </summary>
public static class TemperatureScaling
{
    public const double MinTemperature = 0.05, MaxTemperature = 20;

    /// <summary>Softmax(log p / T): the probabilities that logits divided by T would give (log p differs from the logits by a constant).</summary>
    public static float[] Apply(IReadOnlyList<float> probabilities, double temperature) =>
        GradeProbabilities.Tempered(probabilities, temperature).Values.ToArray();

    public static EvaluatedImage Apply(EvaluatedImage image, double temperature)
    {
        var p = Apply(image.Probabilities, temperature);
        return image with { Probabilities = p, PredictedGrade = Array.IndexOf(p, p.Max()) };
    }

    /// <summary>Mean negative log-likelihood of the true grades at temperature T.</summary>
    public static double NegativeLogLikelihood(IReadOnlyList<EvaluatedImage> images, double temperature) =>
        images.Count == 0 ? double.NaN
            : images.Average(i => -Math.Log(Math.Max(Apply(i.Probabilities, temperature)[i.TrueGrade], 1e-12)));

    /// <summary>The temperature with the lowest NLL on <paramref name="images"/> (golden-section search on log T; the NLL is convex in 1/T).</summary>
    public static double Fit(IReadOnlyList<EvaluatedImage> images)
    {
        if (images.Count == 0) throw new ArgumentException("Temperature scaling needs at least one labelled prediction.");
        double lo = Math.Log(MinTemperature), hi = Math.Log(MaxTemperature);
        double phi = (Math.Sqrt(5) - 1) / 2;
        double a = hi - phi * (hi - lo), b = lo + phi * (hi - lo);
        double fa = NegativeLogLikelihood(images, Math.Exp(a)), fb = NegativeLogLikelihood(images, Math.Exp(b));
        for (int i = 0; i < 60; i++)
        {
            if (fa <= fb) { hi = b; b = a; fb = fa; a = hi - phi * (hi - lo); fa = NegativeLogLikelihood(images, Math.Exp(a)); }
            else { lo = a; a = b; fa = fb; b = lo + phi * (hi - lo); fb = NegativeLogLikelihood(images, Math.Exp(b)); }
        }
        return Math.Exp((lo + hi) / 2);
    }

    /// <summary>Fits the temperature on <paramref name="validation"/> and reports NLL and reliability before and after.</summary>
    public static CalibrationReport Calibrate(IReadOnlyList<EvaluatedImage> validation)
    {
        double t = Fit(validation);
        var after = validation.Select(i => Apply(i, t)).ToList();
        return new CalibrationReport(t, validation.Count,
            NegativeLogLikelihood(validation, 1), NegativeLogLikelihood(validation, t),
            CalibrationReport.TopGrade(validation), CalibrationReport.TopGrade(after), CalibrationReport.Referable(validation), CalibrationReport.Referable(after));
    }
}
