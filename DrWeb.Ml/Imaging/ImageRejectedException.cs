namespace DrWeb.Ml.Imaging;

/// <summary>Why an uploaded file cannot be graded.</summary>
public enum ImageProblem
{
    Empty,
    NotAnImage,
    UnsupportedFormat,
    Truncated,
    Corrupt,
    TooLarge,
    TooSmall,
}

/// <summary>A file that is not a usable image. The message says what is wrong and what to do; it never holds a stack trace.</summary>
public sealed class ImageRejectedException(ImageProblem problem, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public ImageProblem Problem { get; } = problem;
}
