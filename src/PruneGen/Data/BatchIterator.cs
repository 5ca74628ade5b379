using System;

namespace PruneGen.Data;

/// <summary>How a <see cref="BatchIterator"/> orders and augments the samples.</summary>
public sealed record BatchIteratorOptions
{
    /// <summary>Visit the samples in a random order, a new one each epoch (default true).</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Seed of the shuffles and augmentations; the same seed and epoch give the same batches.</summary>
    public ulong Seed { get; init; }

    /// <summary>Random crop / flip applied to each sample (default none: evaluation).</summary>
    public Augmentation Augmentation { get; init; } = Augmentation.None;

    /// <summary>Skip the last batch of an epoch when it is smaller than the batch size.</summary>
    public bool DropLast { get; init; }

    /// <summary>For evaluation: file order, no augmentation, the last partial batch kept.</summary>
    public static BatchIteratorOptions Evaluation => new() { Shuffle = false };

    /// <summary>For training: shuffled with <paramref name="seed"/>, <see cref="Augmentation.Standard"/> augmentation.</summary>
    public static BatchIteratorOptions Training(ulong seed) => new() { Shuffle = true, Seed = seed, Augmentation = Augmentation.Standard };
}

/// <summary>
/// Iterates a <see cref="Dataset"/> in mini-batches, copying (and optionally augmenting) samples into
/// caller-owned buffers: nothing is allocated per batch or per epoch.
/// </summary>
/// <remarks>
/// Everything random is a pure function of (seed, epoch, position in the epoch): the order of epoch
/// <c>e</c> is a Fisher–Yates shuffle seeded from (seed, e), and the crop offsets and flip of the sample
/// at position <c>p</c> come from hashing (seed, e, p). So an epoch can be replayed alone (e.g. after
/// resuming from a checkpoint), and the augmentation of a position does not depend on the batch size.
/// An iterator is not thread-safe; use one per thread (they can share the <see cref="Dataset"/>).
/// <code>
/// var batches = new BatchIterator(data.Train, 128, BatchIteratorOptions.Training(seed: 1));
/// var x = batches.CreateImageBuffer(); var y = batches.CreateLabelBuffer();
/// for (var epoch = 0; epoch &lt; epochs; epoch++)
/// {
///     batches.StartEpoch(epoch);
///     int n;
///     while ((n = batches.Next(x, y)) &gt; 0) { /* train on x[..n * SampleSize], y[..n] */ }
/// }
/// </code>
/// </remarks>
public sealed class BatchIterator
{
    private const ulong ShufflePurpose = 1;
    private const ulong AugmentPurpose = 2;
    private readonly int[] _order;
    private int _position;

    /// <summary>Creates an iterator positioned at the start of epoch 0.</summary>
    /// <param name="dataset">The samples.</param>
    /// <param name="batchSize">Samples per batch (the last one may be smaller unless <see cref="BatchIteratorOptions.DropLast"/>).</param>
    /// <param name="options">Shuffling, seed, augmentation; null = <see cref="BatchIteratorOptions.Evaluation"/>.</param>
    public BatchIterator(Dataset dataset, int batchSize, BatchIteratorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        options ??= BatchIteratorOptions.Evaluation;
        ArgumentOutOfRangeException.ThrowIfNegative(options.Augmentation.CropPadding, nameof(options));
        Dataset = dataset;
        BatchSize = batchSize;
        Options = options;
        _order = new int[dataset.Count];
        StartEpoch(0);
    }

    /// <summary>The samples.</summary>
    public Dataset Dataset { get; }

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Shuffling, seed and augmentation.</summary>
    public BatchIteratorOptions Options { get; }

    /// <summary>The epoch being iterated.</summary>
    public int Epoch { get; private set; }

    /// <summary>Floats per sample.</summary>
    public int SampleSize => Dataset.SampleSize;

    /// <summary>Batches in one epoch.</summary>
    public int BatchesPerEpoch => Options.DropLast ? Dataset.Count / BatchSize : (Dataset.Count + BatchSize - 1) / BatchSize;

    /// <summary>Samples delivered in one epoch.</summary>
    public int SamplesPerEpoch => Options.DropLast ? BatchesPerEpoch * BatchSize : Dataset.Count;

    /// <summary>The dataset indices of this epoch, in visiting order.</summary>
    public ReadOnlySpan<int> Order => _order;

    /// <summary>A buffer that holds one full batch of images (<see cref="BatchSize"/> × <see cref="SampleSize"/>).</summary>
    public float[] CreateImageBuffer() => new float[BatchSize * SampleSize];

    /// <summary>A buffer that holds one full batch of labels.</summary>
    public int[] CreateLabelBuffer() => new int[BatchSize];

    /// <summary>Rewinds to the start of <paramref name="epoch"/> and draws its order.</summary>
    public void StartEpoch(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        Epoch = epoch;
        _position = 0;
        for (var i = 0; i < _order.Length; i++)
        {
            _order[i] = i;
        }

        if (Options.Shuffle)
        {
            var random = new SplitMix64(SplitMix64.Derive(Options.Seed, (ulong)epoch, ShufflePurpose));
            for (var i = _order.Length - 1; i > 0; i--)
            {
                var j = random.NextInt(i + 1);
                (_order[i], _order[j]) = (_order[j], _order[i]);
            }
        }
    }

    /// <summary>
    /// Copies the next batch into <paramref name="images"/> and <paramref name="labels"/>.
    /// </summary>
    /// <param name="images">At least <see cref="BatchSize"/> × <see cref="SampleSize"/> floats (see <see cref="CreateImageBuffer"/>).</param>
    /// <param name="labels">At least <see cref="BatchSize"/> ints.</param>
    /// <returns>Samples written (≤ <see cref="BatchSize"/>); 0 when the epoch is over.</returns>
    public int Next(Span<float> images, Span<int> labels)
    {
        if (images.Length < BatchSize * SampleSize || labels.Length < BatchSize)
        {
            throw new ArgumentException($"Batch buffers must hold {BatchSize} samples: {BatchSize * SampleSize} image floats and {BatchSize} labels; got {images.Length} and {labels.Length}.");
        }

        var remaining = SamplesPerEpoch - _position;
        if (remaining <= 0)
        {
            return 0;
        }

        var count = Math.Min(BatchSize, remaining);
        var sampleSize = SampleSize;
        var augmentation = Options.Augmentation;
        var source = Dataset.Images.AsSpan();
        var epochSeed = SplitMix64.Derive(Options.Seed, (ulong)Epoch, AugmentPurpose);
        for (var i = 0; i < count; i++)
        {
            var position = _position + i;
            var index = _order[position];
            labels[i] = Dataset.Labels[index];
            var src = source.Slice(index * sampleSize, sampleSize);
            var dst = images.Slice(i * sampleSize, sampleSize);
            if (!augmentation.IsEnabled)
            {
                src.CopyTo(dst);
                continue;
            }

            var (dx, dy, flip) = DrawAugmentation(augmentation, epochSeed, position);
            Augmentation.CropAndFlip(src, dst, Dataset.Channels, Dataset.Height, Dataset.Width, dx, dy, flip, Dataset.PaddingValue);
        }

        _position += count;
        return count;
    }

    /// <summary>The crop offsets and flip of the sample at <paramref name="position"/> in this epoch.</summary>
    public (int Dx, int Dy, bool Flip) AugmentationAt(int position) =>
        DrawAugmentation(Options.Augmentation, SplitMix64.Derive(Options.Seed, (ulong)Epoch, AugmentPurpose), position);

    private static (int Dx, int Dy, bool Flip) DrawAugmentation(Augmentation augmentation, ulong epochSeed, int position)
    {
        var bits = SplitMix64.Mix(epochSeed + ((ulong)position * 0x9E3779B97F4A7C15UL));
        var pad = augmentation.CropPadding;
        var span = (ulong)((2 * pad) + 1);
        var dx = pad == 0 ? 0 : (int)((bits & 0xFFFF_FFFF) % span) - pad;
        var dy = pad == 0 ? 0 : (int)(((bits >> 32) & 0x7FFF_FFFF) % span) - pad;
        var flip = augmentation.HorizontalFlip && (bits >> 63) != 0;
        return (dx, dy, flip);
    }
}
