using DrWeb.Ml.Manifest;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DrWeb.Ml.Architectures;

/// <summary>
/// Several trained models of one architecture, preprocessing and split, used as one: its logits are the logarithm
/// of the members' mean probabilities, so softmax, temperature scaling and the referral threshold work on it as on a
/// single model. Its tensors are the members' under <c>members.{i}.</c>, so it saves and loads like any model.
/// A class activation map of an ensemble is the average of its members' maps (see <see cref="Explain.CamMethod"/>).
/// </summary>
public sealed class EnsembleClassifier : FundusClassifier
{
    private readonly ModuleList<FundusClassifier> members;

    public EnsembleClassifier(IReadOnlyList<FundusClassifier> members) : base(nameof(EnsembleClassifier))
    {
        if (members.Count < 2) throw new ArgumentException("An ensemble needs at least two members.", nameof(members));
        var first = members[0];
        var odd = members.FirstOrDefault(m => m.Architecture != first.Architecture || m.Head != first.Head || m.NumClasses != first.NumClasses);
        if (odd is not null)
            throw new ArgumentException($"Ensemble members must share architecture, head and classes: {first.Architecture} ({first.Head}, {first.NumClasses}) " +
                                        $"and {odd.Architecture} ({odd.Head}, {odd.NumClasses}).", nameof(members));
        this.members = new ModuleList<FundusClassifier>(members.ToArray());
        RegisterComponents();
    }

    /// <summary>Parameter-name prefix of member <paramref name="index"/>.</summary>
    public static string MemberPrefix(int index) => $"members.{index}.";

    public IReadOnlyList<FundusClassifier> Members => members.ToList();

    public override string Architecture => members[0].Architecture;
    public override HeadKind Head => members[0].Head;
    public override int NumClasses => members[0].NumClasses;
    public override IReadOnlyList<string> CamLayers => members[0].CamLayers;
    public override string DefaultCamLayer => members[0].DefaultCamLayer;
    public override string HeadName => members[0].HeadName;
    public override int FeatureWidth => members[0].FeatureWidth;
    public override TrainablePolicy PaperPolicy => throw new NotSupportedException("An ensemble is not trained as a whole: train its members, then join them.");

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var probabilities = stack(members.Select(m => functional.softmax(m.call(input), 1)).ToArray()).mean([0]);
        return probabilities.clamp_min(1e-12).log().MoveToOuterDisposeScope();
    }

    /// <summary>What <see cref="forward"/> computes, from the members' logits for one image (the CAM pass has them already).</summary>
    public static float[] CombineLogits(IReadOnlyList<float[]> memberLogits)
    {
        var mean = new double[memberLogits[0].Length];
        foreach (var logits in memberLogits)
        {
            double max = logits.Max(), sum = logits.Sum(l => Math.Exp(l - max));
            for (int c = 0; c < mean.Length; c++) mean[c] += Math.Exp(logits[c] - max) / sum / memberLogits.Count;
        }
        return mean.Select(p => (float)Math.Log(Math.Max(p, 1e-12))).ToArray();
    }

    public override (Func<Tensor, Tensor> Prefix, Func<Tensor, Tensor> Suffix) Partition(string layer) =>
        throw new NotSupportedException("An ensemble is not trained as a whole, and its explanations average its members' own; use its Members.");

    public override LayerSplit SplitAt(Tensor input, string layer) =>
        throw new NotSupportedException("An ensemble's class activation map is the average of its members' maps; CamMethod computes it from Members.");
}
