using System.Collections.Concurrent;
using DrWeb.Ml.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DrWeb.Ml.Data;

/// <summary>A batch ready for the model: [Count, 3, S, S] values in managed memory, and the grades.</summary>
public sealed record Batch(float[] Pixels, int[] Grades, int[] ImageIndices, int Count, int InputSize);

/// <summary>
/// Which random augmentation an item gets: <see cref="FundusAugmentation.Apply"/>'s (seed, epoch, index). By default
/// (run seed, epoch, position in the epoch); a view cache instead names a stored view of the image.
/// </summary>
public readonly record struct AugmentationDraw(int Seed, int Epoch, int Index);

public sealed record LoaderOptions
{
    /// <summary>Threads that decode and augment. The trainer's torch threads run alongside them.</summary>
    public int Workers { get; init; } = Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>Batches prepared ahead. Bounds memory at (Prefetch + 1) batches.</summary>
    public int Prefetch { get; init; } = 2;
}

/// <summary>
/// Decodes, augments and normalises batches on background threads while the consumer trains on the previous one, so
/// the trainer does not wait on JPEG decoding. Memory stays bounded: at most <see cref="LoaderOptions.Prefetch"/>
/// finished batches wait in the queue.
/// </summary>
public static class BatchLoader
{
    /// <param name="order">Indices into <paramref name="images"/>, in epoch order (may repeat, for weighted sampling).</param>
    /// <param name="drawAt">The augmentation draw for a position in <paramref name="order"/>, or null when that item's
    /// pixels are not needed (its row stays zero); by default (seed, epoch, position).</param>
    public static IEnumerable<Batch> Batches(IReadOnlyList<LabelledImage> images, IReadOnlyList<int> order, int batchSize,
        Preprocessing prep, AugmentationOptions augmentation, int seed, int epoch, LoaderOptions? options = null,
        CancellationToken cancellationToken = default, Func<int, AugmentationDraw?>? drawAt = null)
    {
        drawAt ??= position => new AugmentationDraw(seed, epoch, position);
        return Produce(images, order, batchSize, prep, augmentation, drawAt, options ?? new LoaderOptions(), cancellationToken);
    }

    private static IEnumerable<Batch> Produce(IReadOnlyList<LabelledImage> images, IReadOnlyList<int> order, int batchSize,
        Preprocessing prep, AugmentationOptions augmentation, Func<int, AugmentationDraw?> drawAt, LoaderOptions options,
        CancellationToken cancellationToken)
    {
        using var queue = new BlockingCollection<Batch>(Math.Max(1, options.Prefetch));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Exception? failure = null;
        var producer = Task.Run(() =>
        {
            try
            {
                for (int start = 0; start < order.Count; start += batchSize)
                {
                    stop.Token.ThrowIfCancellationRequested();
                    queue.Add(Prepare(images, order, start, Math.Min(batchSize, order.Count - start), prep, augmentation,
                        drawAt, options.Workers, stop.Token), stop.Token);
                }
            }
            catch (OperationCanceledException) { }
            catch (AggregateException e) when (e.InnerExceptions.Count >= 1) { failure = e.InnerExceptions[0]; }
            catch (Exception e) { failure = e; }
            finally { queue.CompleteAdding(); }
        });
        try
        {
            foreach (var batch in queue.GetConsumingEnumerable(cancellationToken))
                yield return batch;
            if (failure is not null) throw failure;
        }
        finally
        {
            stop.Cancel();
            try { producer.Wait(); } catch (AggregateException) { }
        }
    }

    private static Batch Prepare(IReadOnlyList<LabelledImage> images, IReadOnlyList<int> order, int start, int count,
        Preprocessing prep, AugmentationOptions augmentation, Func<int, AugmentationDraw?> drawAt, int workers, CancellationToken token)
    {
        int size = prep.InputSize, stride = 3 * size * size;
        var pixels = new float[count * stride];
        var grades = new int[count];
        var indices = new int[count];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = token }, k =>
        {
            var item = images[order[start + k]];
            grades[k] = item.Grade;
            indices[k] = order[start + k];
            if (drawAt(start + k) is not { } draw) return;
            using var decoded = LoadImage(item);
            using var view = ModelInput.View(decoded, prep);
            using var augmented = FundusAugmentation.Apply(view ?? decoded, augmentation, draw.Seed, draw.Epoch, draw.Index);
            ModelInput.Fill(augmented, prep, pixels.AsSpan(k * stride, stride));
        });
        return new Batch(pixels, grades, indices, count, size);
    }

    private static readonly ImageDecoder Decoder = new();

    private static Image<Rgb24> LoadImage(LabelledImage item)
    {
        try
        {
            var decoded = Decoder.Decode(item.Path);
            return decoded.Pixels;
        }
        catch (Exception e) when (e is ImageRejectedException or IOException)
        {
            throw new InvalidDataException($"Image '{item.Id}' ({item.Path}) could not be read during training: {e.Message}", e);
        }
    }
}
