using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace PruneGen.Data;

/// <summary>
/// How raw pixels become network inputs: <c>x = (pixel / 255 − Mean) / Std</c>, computed as
/// <c>(pixel × <see cref="Scale"/>) + <see cref="Offset"/></c> (two roundings) by both the scalar and the
/// vectorized path, so they give identical values.
/// </summary>
/// <param name="Mean">Mean of the pixel intensities scaled to [0, 1].</param>
/// <param name="Std">Standard deviation of the scaled intensities (must be positive).</param>
public readonly record struct Normalization(float Mean, float Std)
{
    /// <summary>No centering: <c>x = pixel / 255</c>.</summary>
    public static Normalization UnitRange => new(0f, 1f);

    /// <summary>The factor applied to a raw pixel: 1 / (255 · Std).</summary>
    public float Scale => 1f / (255f * Std);

    /// <summary>The value of a black pixel: −Mean / Std.</summary>
    public float Offset => -Mean / Std;

    /// <summary>The normalized value of raw pixel <paramref name="pixel"/>.</summary>
    public float Apply(byte pixel) => (pixel * Scale) + Offset;

    /// <summary>Normalizes <paramref name="pixels"/> into <paramref name="destination"/> (vectorized).</summary>
    public void Apply(ReadOnlySpan<byte> pixels, Span<float> destination)
    {
        if (destination.Length < pixels.Length)
        {
            throw new ArgumentException($"The destination holds {destination.Length} floats but {pixels.Length} pixels were given.", nameof(destination));
        }

        if (!(Std > 0) || !float.IsFinite(Mean))
        {
            throw new InvalidOperationException($"Normalization needs a finite mean and a positive std; got mean {Mean}, std {Std}.");
        }

        Normalize(pixels, destination, Scale, Offset);
    }

    /// <summary>Widens 32 bytes at a time to floats and scales them; compiled fully optimized on first call (it runs once per load).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Normalize(ReadOnlySpan<byte> pixels, Span<float> destination, float scale, float offset)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref var source = ref MemoryMarshal.GetReference(pixels);
            ref var target = ref MemoryMarshal.GetReference(destination);
            var vScale = Vector256.Create(scale);
            var vOffset = Vector256.Create(offset);
            for (; i <= pixels.Length - 32; i += 32)
            {
                var (low, high) = Vector256.Widen(Vector256.LoadUnsafe(ref source, (nuint)i));
                var (a, b) = Vector256.Widen(low);
                var (c, d) = Vector256.Widen(high);
                ((Vector256.ConvertToSingle(a) * vScale) + vOffset).StoreUnsafe(ref target, (nuint)i);
                ((Vector256.ConvertToSingle(b) * vScale) + vOffset).StoreUnsafe(ref target, (nuint)(i + 8));
                ((Vector256.ConvertToSingle(c) * vScale) + vOffset).StoreUnsafe(ref target, (nuint)(i + 16));
                ((Vector256.ConvertToSingle(d) * vScale) + vOffset).StoreUnsafe(ref target, (nuint)(i + 24));
            }
        }

        for (; i < pixels.Length; i++)
        {
            destination[i] = (pixels[i] * scale) + offset;
        }
    }
}

/// <summary>
/// A labelled image classification dataset held in memory: images as one float array of
/// <see cref="Count"/> × <see cref="Channels"/> × <see cref="Height"/> × <see cref="Width"/> (NCHW, normalized),
/// labels as one byte per image.
/// </summary>
public sealed class Dataset
{
    /// <summary>Wraps already-normalized images and their labels (not copied).</summary>
    /// <param name="name">What the data is, e.g. "Fashion-MNIST train"; used in messages.</param>
    /// <param name="images">count × channels × height × width floats.</param>
    /// <param name="labels">One class index per image, each below <paramref name="classCount"/>.</param>
    /// <param name="channels">Channels per image.</param>
    /// <param name="height">Image height.</param>
    /// <param name="width">Image width.</param>
    /// <param name="classCount">Number of classes.</param>
    /// <param name="normalization">How <paramref name="images"/> were normalized (gives the value of a black pixel, used for padding).</param>
    /// <exception cref="ArgumentException">Sizes disagree or a label is out of range.</exception>
    public Dataset(string name, float[] images, byte[] labels, int channels, int height, int width, int classCount, Normalization normalization)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        var sampleSize = (long)channels * height * width;
        if (images.LongLength != sampleSize * labels.Length)
        {
            throw new ArgumentException($"{name}: {labels.Length} labels need {labels.Length} × {channels}×{height}×{width} = {sampleSize * labels.Length} image floats, but {images.Length} were given.", nameof(images));
        }

        var bad = FindLabelOutOfRange(labels, classCount);
        if (bad >= 0)
        {
            throw new ArgumentException($"{name}: label {labels[bad]} at index {bad} is out of range; labels must be 0–{classCount - 1}.", nameof(labels));
        }

        Name = name;
        Images = images;
        Labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        ClassCount = classCount;
        Normalization = normalization;
    }

    /// <summary>What the data is, e.g. "Fashion-MNIST train (/usr/share/datasets/fashion-mnist)".</summary>
    public string Name { get; }

    /// <summary>All images, normalized, NCHW.</summary>
    public float[] Images { get; }

    /// <summary>The class of each image.</summary>
    public byte[] Labels { get; }

    /// <summary>Number of images.</summary>
    public int Count => Labels.Length;

    /// <summary>Channels per image.</summary>
    public int Channels { get; }

    /// <summary>Image height.</summary>
    public int Height { get; }

    /// <summary>Image width.</summary>
    public int Width { get; }

    /// <summary>Floats per image: channels × height × width.</summary>
    public int SampleSize => Channels * Height * Width;

    /// <summary>Number of classes.</summary>
    public int ClassCount { get; }

    /// <summary>How the images were normalized.</summary>
    public Normalization Normalization { get; }

    /// <summary>The normalized value of a black (0) pixel: what zero padding fills in.</summary>
    public float PaddingValue => Normalization.Apply(0);

    /// <summary>Image <paramref name="index"/> (channels × height × width floats).</summary>
    public ReadOnlySpan<float> Image(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Images.AsSpan(index * SampleSize, SampleSize);
    }

    /// <summary>How many images each class has.</summary>
    public int[] ClassHistogram()
    {
        var histogram = new int[ClassCount];
        foreach (var label in Labels)
        {
            histogram[label]++;
        }

        return histogram;
    }

    /// <summary>A copy of images <paramref name="start"/> … <paramref name="start"/> + <paramref name="count"/> − 1.</summary>
    public Dataset Slice(int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + (long)count, Count, nameof(count));
        return new Dataset(
            $"{Name} [{start}..{start + count})",
            Images.AsSpan(start * SampleSize, count * SampleSize).ToArray(),
            Labels.AsSpan(start, count).ToArray(),
            Channels,
            Height,
            Width,
            ClassCount,
            Normalization);
    }

    /// <summary>Builds a dataset from raw unsigned-byte pixels, normalizing them.</summary>
    /// <exception cref="ArgumentException">Sizes disagree or a label is out of range.</exception>
    public static Dataset FromPixels(string name, ReadOnlySpan<byte> pixels, byte[] labels, int channels, int height, int width, int classCount, Normalization normalization)
    {
        var images = GC.AllocateUninitializedArray<float>(pixels.Length);
        normalization.Apply(pixels, images);
        return new Dataset(name, images, labels, channels, height, width, classCount, normalization);
    }

    /// <summary>The index of the first label ≥ <paramref name="classCount"/>, or −1.</summary>
    internal static int FindLabelOutOfRange(ReadOnlySpan<byte> labels, int classCount)
    {
        if (classCount > byte.MaxValue)
        {
            return -1;
        }

        var index = labels.IndexOfAnyExceptInRange((byte)0, (byte)(classCount - 1));
        return index;
    }
}
