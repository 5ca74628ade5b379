using System;
using PruneGen.Model;

namespace PruneGen.Kernels;

/// <summary>
/// The running statistics and affine parameters of a BatchNorm that follows a convolution or dense layer.
/// At inference the generated <c>Forward</c> hands them to that layer's kernel, which applies
/// <c>γ·(x − μ)/√(σ² + ε) + β</c> in the same pass that stores its result (no separate pass over the tensor).
/// <c>default</c> means "no BatchNorm".
/// </summary>
public readonly ref struct BatchNormParameters
{
    /// <summary>Collects the parameters of one BatchNorm layer (all of the channel count's length).</summary>
    public BatchNormParameters(ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance)
    {
        Gamma = gamma;
        Beta = beta;
        Mean = mean;
        Variance = variance;
    }

    /// <summary>Scale γ per channel.</summary>
    public ReadOnlySpan<float> Gamma { get; }

    /// <summary>Shift β per channel.</summary>
    public ReadOnlySpan<float> Beta { get; }

    /// <summary>Running mean per channel.</summary>
    public ReadOnlySpan<float> Mean { get; }

    /// <summary>Running variance per channel.</summary>
    public ReadOnlySpan<float> Variance { get; }

    /// <summary>Whether no BatchNorm is fused.</summary>
    public bool IsEmpty => Gamma.IsEmpty;

    /// <summary>
    /// The per-channel affine map the store applies to the raw product <c>acc</c>:
    /// <c>(acc + bias)·s + t = acc·s + (bias·s + t)</c> with <c>s = γ/√(σ² + ε)</c>, <c>t = β − μ·s</c>;
    /// without a BatchNorm, <c>scale = 1</c> and <c>shift = bias</c>.
    /// </summary>
    internal void Fold(ReadOnlySpan<float> bias, Span<float> scale, Span<float> shift)
    {
        for (var c = 0; c < scale.Length; c++)
        {
            var b = bias.IsEmpty ? 0f : bias[c];
            if (IsEmpty)
            {
                scale[c] = 1f;
                shift[c] = b;
                continue;
            }

            var s = Gamma[c] / MathF.Sqrt(Variance[c] + NetworkBuilder.BatchNormEpsilon);
            scale[c] = s;
            shift[c] = Beta[c] - (Mean[c] * s) + (b * s);
        }
    }
}

/// <summary>The store of a fused layer: <c>dst = act(src·scale + shift [+ residual])</c> over one channel plane or row, in one pass.</summary>
internal static unsafe class Epilogue
{
    /// <summary>One channel: scalar scale and shift. <paramref name="residual"/> may be null.</summary>
    public static void Channel(float* src, float* dst, float* residual, int length, float scale, float shift, bool relu)
    {
        if (scale == 1f && shift == 0f && src == dst && residual == null && !relu)
        {
            return;
        }

        Run(src, dst, residual, length, scale, shift, relu, dst + length);
    }

    /// <summary>
    /// One channel whose <paramref name="rows"/> rows of <paramref name="width"/> values lie <paramref name="srcStride"/>
    /// apart in <paramref name="src"/> (a product at the bordered width) and back to back in <paramref name="dst"/> (and in
    /// <paramref name="residual"/>, which may be null), each row by <see cref="Run"/>.
    /// </summary>
    public static void Rows(float* src, int srcStride, float* dst, int rows, int width, float* residual, float scale, float shift, bool relu)
    {
        var end = dst + (rows * width);
        for (var y = 0; y < rows; y++)
        {
            Run(src + (y * srcStride), dst + (y * width), residual == null ? null : residual + (y * width), width, scale, shift, relu, end);
        }
    }

    /// <summary>
    /// One run of <paramref name="count"/> outputs of a channel, <c>dst = act(src·scale + shift [+ residual])</c>, in whole
    /// vectors while they end before <paramref name="dstEnd"/>: a vector may run past the run into what follows it in dst
    /// (the next row of a plane, stored after this one; residual and src are read as far), and only a run that ends at
    /// <paramref name="dstEnd"/> finishes one value at a time.
    /// </summary>
    public static void Run(float* src, float* dst, float* residual, int count, float scale, float shift, bool relu, float* dstEnd)
    {
        switch (Simd.Level)
        {
            case SimdLevel.Vector512:
                Run<V512>(src, dst, residual, count, scale, shift, relu, dstEnd);
                break;
            case SimdLevel.Vector256:
                Run<V256>(src, dst, residual, count, scale, shift, relu, dstEnd);
                break;
            default:
                Run<V1>(src, dst, residual, count, scale, shift, relu, dstEnd);
                break;
        }
    }

    /// <summary>One dense row in place: a scale (when <paramref name="scaled"/>) and a shift per unit.</summary>
    public static void Row(float* row, float* residual, int length, float* scale, float* shift, bool scaled, bool relu)
    {
        switch (Simd.Level)
        {
            case SimdLevel.Vector512:
                Row<V512>(row, residual, length, scale, shift, scaled, relu);
                break;
            case SimdLevel.Vector256:
                Row<V256>(row, residual, length, scale, shift, scaled, relu);
                break;
            default:
                Row<V1>(row, residual, length, scale, shift, scaled, relu);
                break;
        }
    }

    private static void Run<T>(float* src, float* dst, float* residual, int count, float scale, float shift, bool relu, float* dstEnd)
        where T : unmanaged, IVector<T>
    {
        T s = T.Broadcast(scale), t = T.Broadcast(shift);
        var i = 0;
        for (; i < count && dst + i + T.Count <= dstEnd; i += T.Count)
        {
            T.Store(Finish(T.MultiplyAdd(T.Load(src + i), s, t), residual, i, relu), dst + i);
        }

        for (; i < count; i++)
        {
            V1.Store(Finish(V1.MultiplyAdd(V1.Load(src + i), V1.Broadcast(scale), V1.Broadcast(shift)), residual, i, relu), dst + i);
        }
    }

    private static void Row<T>(float* row, float* residual, int length, float* scale, float* shift, bool scaled, bool relu)
        where T : unmanaged, IVector<T>
    {
        var i = 0;
        if (T.Count > 1)
        {
            for (; i + T.Count <= length; i += T.Count)
            {
                var v = scaled ? T.MultiplyAdd(T.Load(row + i), T.Load(scale + i), T.Load(shift + i)) : T.Add(T.Load(row + i), T.Load(shift + i));
                T.Store(Finish(v, residual, i, relu), row + i);
            }
        }

        for (; i < length; i++)
        {
            var v = scaled ? V1.MultiplyAdd(V1.Load(row + i), V1.Load(scale + i), V1.Load(shift + i)) : V1.Add(V1.Load(row + i), V1.Load(shift + i));
            V1.Store(Finish(v, residual, i, relu), row + i);
        }
    }

    private static T Finish<T>(T v, float* residual, int offset, bool relu)
        where T : unmanaged, IVector<T>
    {
        if (residual != null)
        {
            v = T.Add(v, T.Load(residual + offset));
        }

        return relu ? T.Max(v, T.Zero) : v;
    }
}
