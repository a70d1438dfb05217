namespace DrWeb.Ml.Data;

/// <summary>
/// Several dataset folders trained as one: their images together, patient ids shared across folders (an EyePACS
/// patient may have one eye in each), and near-duplicate photographs given one patient id, so that one patient-level
/// split over the union keeps every person, and every copy of a photograph, on one side.
/// </summary>
public sealed record DatasetUnion(IReadOnlyList<Dataset> Parts, IReadOnlyList<LabelledImage> Images, NearDuplicateReport NearDuplicates)
{
    /// <param name="nearDuplicateDistance">Hamming distance for <see cref="Data.NearDuplicates"/>; negative skips the search.</param>
    public static DatasetUnion Combine(IReadOnlyList<Dataset> parts, int nearDuplicateDistance = Data.NearDuplicates.DefaultMaxDistance,
        CancellationToken token = default)
    {
        if (parts.Count == 0) throw new ArgumentException("Name at least one dataset folder.");
        var owner = new Dictionary<string, string>(StringComparer.Ordinal);
        var images = new List<LabelledImage>();
        foreach (var part in parts)
        foreach (var image in part.Images)
        {
            if (owner.TryGetValue(image.Id, out var first))
                throw new ArgumentException(
                    $"Image '{image.Id}' is in both {first} and {part.Folder}; an image may be in one dataset only. Remove one of them and try again.");
            owner[image.Id] = part.Folder;
            images.Add(image);
        }
        if (nearDuplicateDistance < 0)
            return new DatasetUnion(parts, images, new NearDuplicateReport([], nearDuplicateDistance, 0));
        var (grouped, report) = Data.NearDuplicates.Group(images, nearDuplicateDistance, token);
        return new DatasetUnion(parts, grouped, report);
    }

    public int[] GradeCounts => Enumerable.Range(0, 5).Select(g => Images.Count(i => i.Grade == g)).ToArray();

    /// <summary>Each folder's fingerprint, in the order given.</summary>
    public IReadOnlyList<DatasetFingerprint> Fingerprints =>
        Parts.Select(p => new DatasetFingerprint(p.Folder, p.Fingerprint(), p.Images.Count)).ToList();

    /// <summary>One fingerprint for the union: the folders' fingerprints, in order (one folder: that folder's).</summary>
    public string Fingerprint()
    {
        if (Parts.Count == 1) return Parts[0].Fingerprint();
        byte[] hash = System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(string.Join("\n", Parts.Select(p => p.Fingerprint()))));
        return Convert.ToHexString(hash)[..16].ToLowerInvariant();
    }

    public string Describe() => string.Join(" + ", Parts.Select(p => p.Folder));
}

/// <summary>A dataset folder as a model manifest records it.</summary>
public sealed record DatasetFingerprint(string Folder, string Fingerprint, int Images);
