using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DrWeb.Ml.Explain;

/// <summary>
/// Score-CAM (Wang et al., 2020): no gradients. Each channel, upsampled to the input (bilinear, align_corners=True)
/// and scaled to [0, 1], masks the image; the target's score on the masked image is the channel's evidence, and the
/// weights are the softmax of those scores over the channels. One forward pass per channel, run in batches of
/// <see cref="BatchSize"/>: for a 1024-channel layer of DenseNet121 at 224 px that is 1024 passes, between one and three minutes on
/// two CPU cores (see README, "Explanations").
/// </summary>
public sealed class ScoreCam : CamMethod
{
    public override string Name => "scorecam";
    public override string DisplayName => "Score-CAM";
    public override string Description => "Score-CAM: each channel masks the image and is weighted by the score it keeps; one forward pass per channel (slow).";
    public override bool UsesGradients => false;
    public override bool RunsModelPerChannel => true;

    /// <summary>Masked images per forward pass (pytorch-grad-cam's default).</summary>
    public int BatchSize { get; init; } = 16;

    protected override Tensor ChannelWeights(CamContext context)
    {
        Tensor input = context.Input ?? throw new ArgumentException("Score-CAM needs the images.", nameof(context));
        var score = context.TargetScore ?? throw new ArgumentException("Score-CAM needs the model's target score.", nameof(context));
        long n = input.shape[0], c = context.Activations.shape[1];
        var weights = new List<Tensor>();
        for (int i = 0; i < n; i++)
        {
            var scores = new float[c];
            for (long start = 0; start < c; start += BatchSize)
            {
                // Each batch's tensors are freed before the next: 1024 masked copies of the image would not fit at once.
                using var batchScope = NewDisposeScope();
                long count = Math.Min(BatchSize, c - start);
                // Masks are made per batch: all 1024 at 224 px would hold 200 MB for one image.
                Tensor masks = Masks(context.Activations[i].narrow(0, start, count), input.shape[2], input.shape[3]);
                Tensor masked = input[i].unsqueeze(0).mul(masks.unsqueeze(1));
                score(masked, i).cpu().data<float>().CopyTo(scores.AsSpan((int)start, (int)count));
            }
            weights.Add(functional.softmax(tensor(scores), 0).to(input.device));
        }
        return stack(weights);
    }

    /// <summary>Each channel of <paramref name="activations"/> ([C, h, w]) upsampled to [C, H, W] and min-max scaled to [0, 1].</summary>
    public static Tensor Masks(Tensor activations, long height, long width)
    {
        Tensor up = functional.interpolate(activations.unsqueeze(0), size: [height, width], mode: InterpolationMode.Bilinear,
            align_corners: true).squeeze(0);
        Tensor flat = up.flatten(1);
        Tensor min = flat.min(1, keepdim: true).values, max = flat.max(1, keepdim: true).values;
        return ((flat - min) / (max - min + 1e-8)).view_as(up);
    }
}
