using System;
using System.Numerics.Tensors;

namespace PruneGen.Kernels;

public static partial class ElementwiseKernels
{
    /// <summary>Backward of leaky ReLU: <c>dx += dy</c> where x &gt; 0, else <c>dx += slope·dy</c>.</summary>
    public static void LeakyReLUBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, float slope)
    {
        for (var i = 0; i < x.Length; i++)
        {
            dx[i] += x[i] > 0 ? dy[i] : slope * dy[i];
        }
    }

    /// <summary>Backward of the sigmoid, from its output: <c>dx += dy·y·(1 − y)</c>.</summary>
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (var i = 0; i < y.Length; i++)
        {
            dx[i] += dy[i] * y[i] * (1 - y[i]);
        }
    }

    /// <summary>Backward of tanh, from its output: <c>dx += dy·(1 − y²)</c>.</summary>
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (var i = 0; i < y.Length; i++)
        {
            dx[i] += dy[i] * (1 - (y[i] * y[i]));
        }
    }

    /// <summary>Backward of <see cref="ConcatInto"/>: adds each sample's slice of <paramref name="dy"/> back to <paramref name="dx"/>.</summary>
    public static void ConcatBackward(ReadOnlySpan<float> dy, int outSize, int offset, Span<float> dx, int size, int batch)
    {
        for (var n = 0; n < batch; n++)
        {
            var d = dx.Slice(n * size, size);
            TensorPrimitives.Add(d, dy.Slice((n * outSize) + offset, size), d);
        }
    }

    /// <summary>Backward of softmax, from its output: <c>dx += y·(dy − Σ dy·y)</c> per sample.</summary>
    public static void SoftmaxBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int size, int batch)
    {
        for (var n = 0; n < batch; n++)
        {
            var ys = y.Slice(n * size, size);
            var gs = dy.Slice(n * size, size);
            var dot = TensorPrimitives.Dot(ys, gs);
            var d = dx.Slice(n * size, size);
            for (var i = 0; i < size; i++)
            {
                d[i] += ys[i] * (gs[i] - dot);
            }
        }
    }

    /// <summary>
    /// Training-mode dropout: draws a mask of 0 (probability <paramref name="rate"/>) or 1/(1 − rate)
    /// (inverted dropout, so inference is the identity) and writes <c>y = x·mask</c>.
    /// </summary>
    public static void DropoutForward(ReadOnlySpan<float> x, Span<float> y, Span<float> mask, float rate, ref ulong state)
    {
        var keep = 1f / (1f - rate);
        for (var i = 0; i < x.Length; i++)
        {
            // xorshift64*: fast, seeded, and the same sequence on every machine.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            var u = ((state * 2685821657736338717UL) >> 40) * (1f / (1 << 24));
            mask[i] = u < rate ? 0f : keep;
            y[i] = x[i] * mask[i];
        }
    }

    /// <summary>Backward of dropout: <c>dx += dy·mask</c>.</summary>
    public static void DropoutBackward(ReadOnlySpan<float> dy, ReadOnlySpan<float> mask, Span<float> dx)
    {
        for (var i = 0; i < dx.Length; i++)
        {
            dx[i] += dy[i] * mask[i];
        }
    }
}
