using System.Text.RegularExpressions;
using DrWeb.Ml.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DrWeb.Server.Exams;

/// <summary>A suggested eye for an uploaded photograph, and what it rests on; the doctor confirms or corrects it.</summary>
public sealed record EyeGuess(EyeSide? Side, string Basis);

/// <summary>
/// Guesses which eye a photograph shows. A label in the file name wins (<c>_left</c>, <c>right</c>, <c>OS</c>,
/// <c>OD</c> as a separate word). Otherwise the optic disc's side: it lies nasally, which in a photograph from a
/// fundus camera (seen from the front, not mirrored) is the picture's left for a left eye and its right for a right
/// eye. Measured on the 35 raw EyePACS photographs of fundus-raw-dev: 24 of the 32 where the disc's side was clear
/// agree, 8 are the other way round (EyePACS holds mirrored photographs), 3 gave no side. A guess, never a fact.
/// </summary>
public static partial class EyeGuesser
{
    [GeneratedRegex(@"(?:^|[^a-z])(left|right|os|od)(?:$|[^a-z])", RegexOptions.IgnoreCase)]
    private static partial Regex EyeWord();

    public static EyeSide? FromFileName(string fileName)
    {
        var matches = EyeWord().Matches(Path.GetFileNameWithoutExtension(fileName))
            .Select(m => m.Groups[1].Value.ToLowerInvariant() is "left" or "os" ? EyeSide.Left : EyeSide.Right)
            .Distinct().ToList();
        return matches.Count == 1 ? matches[0] : null;
    }

    /// <summary>The guess from the file name alone, or null when the name does not tell.</summary>
    public static EyeGuess? Named(string fileName) =>
        FromFileName(fileName) is { } named ? new EyeGuess(named, $"the file name says {named.ToString().ToLowerInvariant()}") : null;

    public static EyeGuess Guess(string fileName, Image<Rgb24> photograph)
    {
        if (Named(fileName) is { } named) return named;
        var disc = OpticDisc.Locate(photograph);
        return disc?.Side switch
        {
            PictureSide.Left => new EyeGuess(EyeSide.Left, "the optic disc is on the left of the picture"),
            PictureSide.Right => new EyeGuess(EyeSide.Right, "the optic disc is on the right of the picture"),
            _ => new EyeGuess(null, "neither the file name nor the optic disc's position tells; choose the eye"),
        };
    }
}
