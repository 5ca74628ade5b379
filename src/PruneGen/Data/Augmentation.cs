using System;

namespace PruneGen.Data;

/// <summary>
/// Training-time augmentation: a random crop of the image padded by <see cref="CropPadding"/> pixels on each
/// side (the padding is black, i.e. the normalized value of pixel 0), then a random horizontal flip with
/// probability ½. Random choices come from the iterator's seed, so they are reproducible.
/// </summary>
/// <param name="CropPadding">Pixels of padding on each side before cropping back to the original size; 0 = no crop.</param>
/// <param name="HorizontalFlip">Flip left-right with probability ½.</param>
public readonly record struct Augmentation(int CropPadding, bool HorizontalFlip)
{
    /// <summary>No augmentation.</summary>
    public static Augmentation None => default;

    /// <summary>The usual Fashion-MNIST / CIFAR recipe: pad 2, random crop back to size, random horizontal flip.</summary>
    public static Augmentation Standard => new(2, true);

    /// <summary>True when this changes images at all.</summary>
    public bool IsEnabled => CropPadding > 0 || HorizontalFlip;

    /// <summary>
    /// Writes one augmented image: <c>destination[c, y, x] = source[c, y + dy, x' + dx]</c> where
    /// <c>x' = flip ? width − 1 − x : x</c>, and <paramref name="padValue"/> where that falls outside the
    /// source. (<paramref name="dx"/>, <paramref name="dy"/>) = (0, 0) and no flip copies the image.
    /// A random crop with padding p is an offset in −p … p on each axis.
    /// </summary>
    /// <param name="source">channels × height × width floats.</param>
    /// <param name="destination">channels × height × width floats, written.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="height">Height.</param>
    /// <param name="width">Width.</param>
    /// <param name="dx">Horizontal offset of the crop window (positive = window moves right, image content moves left).</param>
    /// <param name="dy">Vertical offset of the crop window (positive = window moves down).</param>
    /// <param name="flip">Mirror left-right after cropping.</param>
    /// <param name="padValue">Value of pixels outside the source (the normalized black).</param>
    public static void CropAndFlip(ReadOnlySpan<float> source, Span<float> destination, int channels, int height, int width, int dx, int dy, bool flip, float padValue)
    {
        var plane = height * width;
        var size = channels * plane;
        if (source.Length < size || destination.Length < size)
        {
            throw new ArgumentException($"An image of {channels}×{height}×{width} needs {size} floats; source has {source.Length}, destination {destination.Length}.");
        }

        // Columns x in [x0, x1) of a cropped row read source columns x + dx; the rest is padding.
        var x0 = Math.Clamp(-dx, 0, width);
        var x1 = Math.Clamp(width - dx, x0, width);
        for (var c = 0; c < channels; c++)
        {
            var src = source.Slice(c * plane, plane);
            var dst = destination.Slice(c * plane, plane);
            for (var y = 0; y < height; y++)
            {
                var row = dst.Slice(y * width, width);
                var sy = y + dy;
                if ((uint)sy >= (uint)height)
                {
                    row.Fill(padValue);
                    continue;
                }

                row[..x0].Fill(padValue);
                src.Slice((sy * width) + x0 + dx, x1 - x0).CopyTo(row[x0..x1]);
                row[x1..].Fill(padValue);
                if (flip)
                {
                    row.Reverse();
                }
            }
        }
    }
}
