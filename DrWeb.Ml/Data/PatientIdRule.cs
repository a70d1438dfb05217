using System.Text.RegularExpressions;

namespace DrWeb.Ml.Data;

/// <summary>
/// How a patient id is read from an image id. The default follows EyePACS: the part before <c>_left</c> or
/// <c>_right</c>. An image the rule does not match is its own patient (APTOS ids carry no patient).
/// </summary>
public sealed class PatientIdRule
{
    public const string EyePacsPattern = @"^(?<patient>.+?)_(left|right)$";

    private readonly Regex _regex;

    public PatientIdRule(string pattern = EyePacsPattern)
    {
        _regex = new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
        if (!_regex.GetGroupNames().Contains("patient"))
            throw new ArgumentException($"The patient-id pattern '{pattern}' needs a named group (?<patient>...).");
        Pattern = pattern;
    }

    public string Pattern { get; }

    public string PatientOf(string imageId)
    {
        var m = _regex.Match(imageId);
        return m.Success ? m.Groups["patient"].Value : imageId;
    }
}
