using System.Numerics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace DrWeb.Ml.Data;

/// <summary>
/// A 1,024-bit hash of a photograph's fine structure: the green channel at 64 x 64, minus its local mean (a 9 x 9 box),
/// averaged to 32 x 32, one bit per cell (brighter than its surroundings?). Vessels and lesions decide the bits, not
/// the round field of view that every fundus photograph shares, so two eyes differ in about half the bits while a
/// re-encoded, rescaled or recoloured copy keeps most of them.
/// </summary>
public sealed class PerceptualHash
{
    public const int Bits = 1024;
    private const int Size = 64, Cell = 2, Radius = 4;

    private readonly ulong[] _words;

    private PerceptualHash(ulong[] words) => _words = words;

    public static PerceptualHash Of(string path)
    {
        using var image = Image.Load<Rgb24>(path);
        image.Mutate(x => x.Resize(Size, Size));
        var green = new float[Size, Size];
        for (int y = 0; y < Size; y++)
        for (int x = 0; x < Size; x++)
            green[y, x] = image[x, y].G;
        var words = new ulong[Bits / 64];
        int bit = 0;
        for (int cy = 0; cy < Size; cy += Cell)
        for (int cx = 0; cx < Size; cx += Cell, bit++)
        {
            float detail = 0;
            for (int y = cy; y < cy + Cell; y++)
            for (int x = cx; x < cx + Cell; x++)
                detail += green[y, x] - LocalMean(green, y, x);
            if (detail > 0) words[bit / 64] |= 1UL << (bit % 64);
        }
        return new PerceptualHash(words);
    }

    private static float LocalMean(float[,] g, int y, int x)
    {
        float sum = 0;
        int n = 0;
        for (int yy = Math.Max(0, y - Radius); yy <= Math.Min(Size - 1, y + Radius); yy++)
        for (int xx = Math.Max(0, x - Radius); xx <= Math.Min(Size - 1, x + Radius); xx++, n++)
            sum += g[yy, xx];
        return sum / n;
    }

    public int DistanceTo(PerceptualHash other)
    {
        int d = 0;
        for (int i = 0; i < _words.Length; i++) d += BitOperations.PopCount(_words[i] ^ other._words[i]);
        return d;
    }
}

/// <summary>What grouping near-duplicates found.</summary>
/// <param name="Groups">Sets of two or more images judged to be one photograph, each as image ids.</param>
/// <param name="MaxDistance">Largest Hamming distance (of <see cref="PerceptualHash.Bits"/>) counted as the same photograph.</param>
/// <param name="MergedPatients">Patient ids that became one because their images are near-duplicates.</param>
public sealed record NearDuplicateReport(IReadOnlyList<IReadOnlyList<string>> Groups, int MaxDistance, int MergedPatients)
{
    public int ImagesInGroups => Groups.Sum(g => g.Count);

    public string Summary() => Groups.Count == 0
        ? $"near-duplicates: none within {MaxDistance} of {PerceptualHash.Bits} hash bits"
        : $"near-duplicates: {Groups.Count} group(s) of {ImagesInGroups} images within {MaxDistance} of {PerceptualHash.Bits} hash bits; " +
          $"their {MergedPatients} patient ids are split as one patient per group";
}

/// <summary>
/// Finds photographs that are the same picture although not byte-identical (APTOS holds such copies, some resized or
/// re-encoded) and gives them one patient id, so that a patient-level split can never put one copy in training and
/// another in validation.
/// </summary>
public static class NearDuplicates
{
    /// <summary>
    /// Measured on fundus-dev + fundus-train (9,365 images, 43.8 million pairs): 11 APTOS pairs lie at 14-29 bits of
    /// 1,024, then nothing until 77; two different EyePACS eyes never came closer than 122.
    /// </summary>
    public const int DefaultMaxDistance = 48;

    /// <returns>The images with patient ids merged over near-duplicate groups, and what was found.</returns>
    public static (IReadOnlyList<LabelledImage> Images, NearDuplicateReport Report) Group(IReadOnlyList<LabelledImage> images,
        int maxDistance = DefaultMaxDistance, CancellationToken token = default)
    {
        var hashes = new PerceptualHash[images.Count];
        Parallel.For(0, images.Count, new ParallelOptions { CancellationToken = token }, i => hashes[i] = PerceptualHash.Of(images[i].Path));

        var parent = Enumerable.Range(0, images.Count).ToArray();
        int Find(int i) { while (parent[i] != i) i = parent[i] = parent[parent[i]]; return i; }
        for (int i = 0; i < images.Count; i++)
        {
            token.ThrowIfCancellationRequested();
            for (int j = i + 1; j < images.Count; j++)
                if (hashes[i].DistanceTo(hashes[j]) <= maxDistance)
                    parent[Find(i)] = Find(j);
        }
        var members = Enumerable.Range(0, images.Count).GroupBy(Find).Where(g => g.Count() > 1).Select(g => g.ToList()).ToList();
        var groups = members
            .Select(g => (IReadOnlyList<string>)g.Select(i => images[i].Id).Order(StringComparer.Ordinal).ToList())
            .OrderBy(g => g[0], StringComparer.Ordinal).ToList();

        // Patients joined by a duplicate become one: every image of every patient in a group takes one id.
        var patientParent = images.Select(i => i.PatientId).Distinct(StringComparer.Ordinal).ToDictionary(p => p, p => p, StringComparer.Ordinal);
        string FindPatient(string p) { while (patientParent[p] != p) p = patientParent[p] = patientParent[patientParent[p]]; return p; }
        foreach (var group in members)
        {
            var patients = group.Select(i => FindPatient(images[i].PatientId)).Distinct().Order(StringComparer.Ordinal).ToList();
            foreach (var p in patients.Skip(1)) patientParent[p] = patients[0];
        }
        int merged = patientParent.Keys.GroupBy(FindPatient).Where(g => g.Count() > 1).Sum(g => g.Count());
        var regrouped = images.Select(i => FindPatient(i.PatientId) == i.PatientId ? i : i with { PatientId = FindPatient(i.PatientId) }).ToList();
        return (regrouped, new NearDuplicateReport(groups, maxDistance, merged));
    }
}
