using DrWeb.Ml.Architectures;
using DrWeb.Ml.Data;
using DrWeb.Ml.Imaging;

namespace DrWeb.Server.Training;

/// <summary>A reason a run cannot go on, in words for the page.</summary>
public sealed class TrainingFailure(string message) : Exception(message)
{
    /// <summary>A sentence for the page for failures that are about the run's inputs or the machine, or null.</summary>
    public static string? Readable(Exception e) => e switch
    {
        TrainingFailure f => f.Message,
        DatasetException d => $"The dataset has problems (choose \"leave out rows with problems\" to train without them): {d.Report.Summary()}",
        CheckpointException c => c.Message,
        ImageRejectedException i => $"An image in the dataset could not be read: {i.Message}. Fix or remove it and start a new run.",
        ArgumentException a => a.Message,
        OutOfMemoryException => "The server ran out of memory. Use a smaller batch size or a smaller model.",
        System.Runtime.InteropServices.ExternalException x when x.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase) =>
            "The GPU or CPU ran out of memory. Use a smaller batch size.",
        IOException io => $"A file could not be read or written: {io.Message}",
        InvalidDataException bad => $"A file is damaged: {bad.Message}",
        _ => $"Unexpected error ({e.GetType().Name}). The server log has the details.",
    };
}
