using System.Text.Json;
using DrWeb.Ml.Manifest;

namespace DrWeb.Ml.Architectures;

/// <summary>
/// Joins trained model folders into one <see cref="EnsembleClassifier"/>. The members must be interchangeable inputs
/// to one screening decision: same architecture, head, preprocessing and base weights, and the same validation and
/// test images, so that the ensemble can be calibrated on images none of its members trained on.
/// </summary>
public static class EnsembleJoin
{
    /// <returns>The ensemble (it owns the loaded members) and its manifest, not yet calibrated.</returns>
    public static (EnsembleClassifier Model, ModelManifest Manifest) Join(IReadOnlyList<string> memberFolders, string? label = null)
    {
        if (memberFolders.Count < 2) throw new ArgumentException("Name at least two model folders to join.");
        var manifests = memberFolders.Select(ModelDirectory.ReadManifest).ToList();
        var first = manifests[0];
        for (int i = 1; i < manifests.Count; i++)
        {
            var m = manifests[i];
            string? problem =
                m.IsEnsemble || first.IsEnsemble ? "is already an ensemble; join single models"
                : m.Architecture != first.Architecture || m.Head != first.Head || m.NumClasses != first.NumClasses ? $"is a {m.Architecture} ({m.Head} head), not a {first.Architecture} ({first.Head} head)"
                : JsonSerializer.Serialize(m.Preprocessing) != JsonSerializer.Serialize(first.Preprocessing) ? "was trained with other preprocessing"
                : m.BaseWeights != first.BaseWeights ? $"starts from other base weights ({m.BaseWeights ?? "none"})"
                : !m.ValidationIds.SequenceEqual(first.ValidationIds) || !m.TestIds.SequenceEqual(first.TestIds)
                    ? "was validated or tested on other images; train every member with the same data and --split-seed"
                : null;
            if (problem is not null)
                throw new ArgumentException($"{memberFolders[i]} {problem} than {memberFolders[0]}.");
        }
        if (first.ValidationIds.Count == 0)
            throw new ArgumentException($"{memberFolders[0]} records no validation images; an ensemble is calibrated on them.");

        var members = new List<FundusClassifier>();
        try
        {
            foreach (var folder in memberFolders) members.Add(ModelDirectory.Load(folder).Model);
            var ensemble = new EnsembleClassifier(members);
            var prefixes = manifests.SelectMany((m, i) => m.TrainablePrefixes.Select(p => EnsembleClassifier.MemberPrefix(i) + p)).ToList();
            string policyName = $"ensemble of {members.Count} ({first.TrainablePolicy})";
            ensemble.ApplyTrainablePolicy(new TrainablePolicy(policyName, prefixes));
            ensemble.SetTrainingMode(false);
            var manifest = first with
            {
                TrainablePolicy = policyName, TrainablePrefixes = prefixes, Label = label ?? first.Label,
                EnsembleMembers = manifests.Select((m, i) => new EnsembleMember(
                    Path.GetFileName(Path.GetFullPath(memberFolders[i]).TrimEnd(Path.DirectorySeparatorChar)), m.Training?.Seed ?? 0, m.BestEpoch,
                    m.Validation?.Referable.RocAuc ?? double.NaN, m.TrainingSeconds)).ToList(),
                TrainingSeconds = manifests.Sum(m => m.TrainingSeconds), History = [], BestEpoch = 0,
                Validation = null, ValidationBySource = [], Test = null, TestBySource = [], Calibration = null, OperatingPoint = null,
                ValidationScores = [], OperatingPointHistory = [], TestTimeFlip = false, CreatedUtc = DateTimeOffset.UtcNow,
            };
            return (ensemble, manifest);
        }
        catch
        {
            foreach (var m in members) m.Dispose();
            throw;
        }
    }
}
