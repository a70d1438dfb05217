namespace DrWeb.Ml.Data;

/// <summary>A train/validation split.</summary>
public sealed record DataSplit(IReadOnlyList<LabelledImage> Train, IReadOnlyList<LabelledImage> Validation);

/// <summary>
/// Splits by patient, stratified by each patient's worst grade, with a seed. Both eyes of a patient always land on
/// the same side: two eyes of one person look alike, and splitting them would leak the answer into validation.
/// </summary>
public static class PatientSplit
{
    public static DataSplit Split(IReadOnlyList<LabelledImage> images, double validationFraction = 0.2, int seed = 42)
    {
        if (validationFraction is <= 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(validationFraction), "The validation share must be between 0 and 1.");
        var rng = new Random(seed);
        var validationPatients = new HashSet<string>(StringComparer.Ordinal);
        var patients = images.GroupBy(i => i.PatientId, StringComparer.Ordinal)
            .Select(g => (Patient: g.Key, Stratum: g.Max(i => i.Grade)))
            .OrderBy(p => p.Patient, StringComparer.Ordinal)
            .ToList();
        foreach (var stratum in patients.GroupBy(p => p.Stratum).OrderBy(g => g.Key))
        {
            var shuffled = stratum.Select(p => p.Patient).ToArray();
            rng.Shuffle(shuffled);
            int take = (int)Math.Round(shuffled.Length * validationFraction, MidpointRounding.AwayFromZero);
            validationPatients.UnionWith(shuffled.Take(take));
        }
        return new DataSplit(
            images.Where(i => !validationPatients.Contains(i.PatientId)).ToList(),
            images.Where(i => validationPatients.Contains(i.PatientId)).ToList());
    }

    /// <summary>
    /// Sets patients aside before any training or model selection, for final figures that nothing was tuned on. Uses
    /// its own seed stream, so the held-out patients do not depend on the later train/validation split.
    /// </summary>
    /// <returns>The images left for training and validation, and the held-out test images.</returns>
    public static (IReadOnlyList<LabelledImage> Remaining, IReadOnlyList<LabelledImage> Test) HoldOut(IReadOnlyList<LabelledImage> images,
        double testFraction, int seed)
    {
        var split = Split(images, testFraction, Seeds.Mix(seed, 0, 0x7E57));
        return (split.Train, split.Validation);
    }
}
