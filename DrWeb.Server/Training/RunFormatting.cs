using System.Globalization;
using DrWeb.Server.Platform.Database;

namespace DrWeb.Server.Training;

/// <summary>How runs read on the pages: durations, ETAs and metrics in one consistent form.</summary>
public static class RunFormatting
{
    public static string Duration(TimeSpan? span) => span is not { } s ? "—"
        : s.TotalHours >= 1 ? $"{(int)s.TotalHours} h {s.Minutes:00} min"
        : s.TotalMinutes >= 1 ? $"{s.Minutes} min {s.Seconds:00} s"
        : $"{s.Seconds} s";

    public static TimeSpan? Elapsed(TrainingRun run) => run.StartedUtc is not { } start ? null
        : (run.FinishedUtc ?? DateTimeOffset.UtcNow) - start;

    public static string Eta(TrainingRun run) =>
        run.Status == TrainingRunStatus.Running && run.EtaSeconds is { } eta ? Duration(TimeSpan.FromSeconds(eta)) : "—";

    public static string Metric(double? value) =>
        value is { } v && double.IsFinite(v) ? v.ToString("0.000", CultureInfo.InvariantCulture) : "—";

    /// <summary>Share of the run done, from epochs and steps, 0-100.</summary>
    public static double Percent(TrainingRun run)
    {
        if (run.Status == TrainingRunStatus.Succeeded) return 100;
        if (run.Epochs == 0) return 0;
        double inEpoch = run.StepsPerEpoch > 0 ? run.Step / (double)run.StepsPerEpoch : 0;
        return Math.Clamp(100 * (Math.Max(0, run.Epoch - 1) + inEpoch) / run.Epochs, 0, 100);
    }
}
