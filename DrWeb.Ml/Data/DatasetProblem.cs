namespace DrWeb.Ml.Data;

public enum DatasetProblemKind
{
    EmptyDataset,
    WrongHeader,
    MissingImage,
    UnknownGrade,
    Duplicate,
    UnreadableImage,
    UnknownLayout,
}

/// <summary>One problem in a dataset, with where it is.</summary>
/// <param name="Row">1-based line of the labels file (the header is line 1), if the problem has one.</param>
public sealed record DatasetProblem(DatasetProblemKind Kind, string Message, int? Row = null, string? File = null)
{
    public override string ToString() =>
        (Row is { } r ? $"row {r}: " : "") + (File is { } f ? $"{f}: " : "") + Message;
}

/// <summary>What reading a dataset found, before any training.</summary>
public sealed record DatasetValidationReport(
    string Folder,
    DatasetLayout? Layout,
    string? LabelsFile,
    int RowsRead,
    int RowsKept,
    IReadOnlyList<DatasetProblem> Problems)
{
    public int RowsDropped => RowsRead - RowsKept;

    /// <summary>Problems that make the whole dataset unusable, whatever the user asks.</summary>
    public bool IsFatal => Problems.Any(p => p.Kind is DatasetProblemKind.EmptyDataset or DatasetProblemKind.WrongHeader
        or DatasetProblemKind.UnknownLayout) || RowsKept == 0;

    public string Summary()
    {
        var lines = new List<string>
        {
            $"{Folder}: {Layout?.ToString() ?? "unknown layout"}{(LabelsFile is null ? "" : $" ({Path.GetFileName(LabelsFile)})")}, " +
            $"{RowsRead} row(s) read, {RowsKept} kept, {RowsDropped} dropped, {Problems.Count} problem(s).",
        };
        lines.AddRange(Problems.Take(50).Select(p => "  " + p));
        if (Problems.Count > 50) lines.Add($"  ... and {Problems.Count - 50} more.");
        return string.Join(Environment.NewLine, lines);
    }
}

/// <summary>A dataset that cannot be used as it is; the report lists every problem.</summary>
public sealed class DatasetException(DatasetValidationReport report, string advice)
    : Exception(report.Summary() + Environment.NewLine + advice)
{
    public DatasetValidationReport Report { get; } = report;
}
