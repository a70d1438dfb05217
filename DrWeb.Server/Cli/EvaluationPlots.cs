using DrWeb.Ml.Manifest;
using ScottPlot;

namespace DrWeb.Server.Cli;

/// <summary>The ROC curve with the model's operating point, and reliability diagrams, as PNG files beside metrics.json.</summary>
internal static class EvaluationPlots
{
    public const int Size = 600;

    /// <summary>ROC curve of P(referable); the operating point (if any) and the point at the target specificity marked.</summary>
    public static string Roc(string path, IReadOnlyList<ReferableCase> cases, double? threshold, string title)
    {
        var plot = new Plot();
        var roc = OperatingPoint.Roc(cases);
        plot.Add.Scatter(roc.Select(p => 1 - p.Specificity.Value).ToArray(), roc.Select(p => p.Sensitivity.Value).ToArray()).MarkerSize = 0;
        var diagonal = plot.Add.Line(0, 0, 1, 1);
        diagonal.LinePattern = LinePattern.Dashed;
        diagonal.LineColor = Colors.Gray;
        if (threshold is { } t)
        {
            var (sens, spec) = OperatingPoint.At(cases, t);
            var marker = plot.Add.Marker(1 - spec.Value, sens.Value, MarkerShape.FilledCircle, 10, Colors.Red);
            marker.LegendText = $"threshold {t:0.00}: sens {sens.Value:0.00}, spec {spec.Value:0.00}";
            plot.ShowLegend(Alignment.LowerRight);
        }
        plot.Title(title);
        plot.XLabel("1 - specificity");
        plot.YLabel("sensitivity");
        plot.Axes.SetLimits(0, 1, 0, 1);
        plot.SavePng(path, Size, Size);
        return path;
    }

    /// <summary>Mean confidence against observed frequency per bin, with the diagonal of perfect calibration.</summary>
    public static string Reliability(string path, Reliability diagram, string title)
    {
        var plot = new Plot();
        var filled = diagram.Bins.Where(b => b.Count > 0).ToList();
        var bars = plot.Add.Bars(filled.Select(b => (b.Lower + b.Upper) / 2).ToArray(), filled.Select(b => b.Accuracy).ToArray());
        foreach (var bar in bars.Bars) bar.Size = 0.09;
        var diagonal = plot.Add.Line(0, 0, 1, 1);
        diagonal.LinePattern = LinePattern.Dashed;
        diagonal.LineColor = Colors.Gray;
        plot.Title($"{title} (ECE {diagram.ExpectedCalibrationError:0.000})");
        plot.XLabel("predicted probability (10 bins)");
        plot.YLabel("observed frequency");
        plot.Axes.SetLimits(0, 1, 0, 1);
        plot.SavePng(path, Size, Size);
        return path;
    }
}
