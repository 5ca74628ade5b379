using System;
using System.Numerics.Tensors;
using PruneGen.Model;

namespace PruneGen.Kernels;

/// <summary>Dense forward: <c>y[n, o] = b[o] + Σᵢ x[n, i]·W[o, i]</c>. x is (batch, In), W is (Out, In), y is (batch, Out).</summary>
/// <typeparam name="TShape">The layer's constant dimensions.</typeparam>
public static unsafe partial class DenseKernel<TShape>
    where TShape : IDenseShape
{
    /// <summary>Computes the layer for <paramref name="batch"/> samples; <paramref name="bias"/> is empty when the layer has none.</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, int batch)
    {
        fixed (float* px = x, pw = weight, py = y)
        {
            Gemm.MultiplyNT(batch, TShape.Out, TShape.In, px, TShape.In, pw, TShape.In, py, TShape.Out, accumulate: false);
        }

        if (!bias.IsEmpty)
        {
            for (var n = 0; n < batch; n++)
            {
                var row = y.Slice(n * TShape.Out, TShape.Out);
                TensorPrimitives.Add(row, bias, row);
            }
        }
    }
}

/// <summary>
/// Convolution forward. x is (batch, Cin, H, W), weight is (Cout, Cin/groups, K, K), y is
/// (batch, Cout, OH, OW). Per sample and group: <c>y_g = W_g · im2col(x_g)</c>, a (Cout/g × Cin/g·K·K)
/// by (Cin/g·K·K × OH·OW) product; a 1×1 stride-1 unpadded convolution multiplies x directly.
/// </summary>
/// <typeparam name="TShape">The layer's constant dimensions.</typeparam>
public static unsafe partial class Conv2DKernel<TShape>
    where TShape : IConv2DShape
{
    private static int GroupIn => TShape.InChannels / TShape.Groups;

    private static int GroupOut => TShape.OutChannels / TShape.Groups;

    private static int PatchLength => GroupIn * TShape.Kernel * TShape.Kernel;

    private static int OutSpatial => TShape.OutHeight * TShape.OutWidth;

    private static int InSpatial => TShape.InHeight * TShape.InWidth;

    private static bool Direct => TShape.Kernel == 1 && TShape.Stride == 1 && TShape.Padding == 0;

    /// <summary>Floats of scratch one call needs (matches <see cref="LayerNode.Im2ColLength"/>).</summary>
    public static int ScratchLength => Direct ? 0 : PatchLength * OutSpatial;

    [ThreadStatic]
    private static ForwardWork? t_forward;

    /// <summary>
    /// Computes the layer for <paramref name="batch"/> samples. The samples are split across
    /// <see cref="WorkerPool"/> threads; <paramref name="scratch"/> is divided evenly between them and
    /// must hold <see cref="ScratchLength"/> floats per thread.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, int batch, Span<float> scratch)
    {
        var parts = Math.Min(batch, WorkerPool.Workers);
        fixed (float* px = x, pw = weight, pb = bias, py = y, cols = scratch)
        {
            var work = t_forward ??= new ForwardWork();
            work.X = px;
            work.W = pw;
            work.B = bias.IsEmpty ? null : pb;
            work.Y = py;
            work.Scratch = cols;
            work.ScratchStride = scratch.Length / parts;
            work.Batch = batch;
            WorkerPool.Run(work, parts);
        }
    }

    private static void ForwardSample(float* px, float* pw, float* pb, float* py, float* cols)
    {
        for (var g = 0; g < TShape.Groups; g++)
        {
            var input = px + (g * GroupIn * InSpatial);
            var output = py + (g * GroupOut * OutSpatial);
            var w = pw + (g * GroupOut * PatchLength);
            if (Direct)
            {
                Gemm.MultiplyNN(GroupOut, OutSpatial, GroupIn, w, PatchLength, input, InSpatial, output, OutSpatial, accumulate: false);
            }
            else
            {
                Im2Col(input, cols);
                Gemm.MultiplyNN(GroupOut, OutSpatial, PatchLength, w, PatchLength, cols, OutSpatial, output, OutSpatial, accumulate: false);
            }
        }

        if (pb != null)
        {
            for (var c = 0; c < TShape.OutChannels; c++)
            {
                var plane = new Span<float>(py + (c * OutSpatial), OutSpatial);
                TensorPrimitives.Add(plane, pb[c], plane);
            }
        }
    }

    /// <summary>One forward call's pointers; each part computes a contiguous range of samples.</summary>
    private sealed class ForwardWork : IParallelWork
    {
        public float* X;
        public float* W;
        public float* B;
        public float* Y;
        public float* Scratch;
        public int ScratchStride;
        public int Batch;

        public void Execute(int part, int parts)
        {
            var (from, to) = (Batch * part / parts, Batch * (part + 1) / parts);
            for (var n = from; n < to; n++)
            {
                ForwardSample(X + (n * TShape.InChannels * InSpatial), W, B, Y + (n * TShape.OutChannels * OutSpatial), Scratch + (part * ScratchStride));
            }
        }
    }

    /// <summary>Unfolds one sample's group into columns: row (c, kh, kw), column (oh, ow); out-of-image taps are 0.</summary>
    private static void Im2Col(float* input, float* cols)
    {
        int k = TShape.Kernel, s = TShape.Stride, pad = TShape.Padding, h = TShape.InHeight, wd = TShape.InWidth;
        int oh = TShape.OutHeight, ow = TShape.OutWidth;
        var row = cols;
        for (var c = 0; c < GroupIn; c++)
        {
            var plane = input + (c * h * wd);
            for (var kh = 0; kh < k; kh++)
            {
                for (var kw = 0; kw < k; kw++)
                {
                    for (var y = 0; y < oh; y++)
                    {
                        var iy = (y * s) - pad + kh;
                        var dst = row + (y * ow);
                        if ((uint)iy >= (uint)h)
                        {
                            new Span<float>(dst, ow).Clear();
                            continue;
                        }

                        var src = plane + (iy * wd);
                        if (s == 1)
                        {
                            // Stride 1: the row is a contiguous run of the input, zero-padded at the edges.
                            var x0 = Math.Min(ow, Math.Max(0, pad - kw));
                            var x1 = Math.Max(x0, Math.Min(ow, wd + pad - kw));
                            new Span<float>(dst, x0).Clear();
                            if (x1 > x0)
                            {
                                new ReadOnlySpan<float>(src + x0 - pad + kw, x1 - x0).CopyTo(new Span<float>(dst + x0, x1 - x0));
                            }

                            new Span<float>(dst + x1, ow - x1).Clear();
                            continue;
                        }

                        for (var x = 0; x < ow; x++)
                        {
                            var ix = (x * s) - pad + kw;
                            dst[x] = (uint)ix < (uint)wd ? src[ix] : 0f;
                        }
                    }

                    row += oh * ow;
                }
            }
        }
    }
}

/// <summary>BatchNorm at inference: <c>y = γ·(x − μ)/√(σ² + ε) + β</c> per channel, with running statistics.</summary>
/// <typeparam name="TShape">Channels and positions per channel.</typeparam>
public static unsafe partial class BatchNormKernel<TShape>
    where TShape : IChannelShape
{
    /// <summary>Computes the layer for <paramref name="batch"/> samples.</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, Span<float> y, int batch)
    {
        var spatial = TShape.Spatial;
        for (var n = 0; n < batch; n++)
        {
            for (var c = 0; c < TShape.Channels; c++)
            {
                var scale = gamma[c] / MathF.Sqrt(variance[c] + NetworkBuilder.BatchNormEpsilon);
                var shift = beta[c] - (mean[c] * scale);
                var offset = ((n * TShape.Channels) + c) * spatial;
                if (spatial == 1)
                {
                    y[offset] = (x[offset] * scale) + shift;
                }
                else
                {
                    var dst = y.Slice(offset, spatial);
                    TensorPrimitives.Multiply(x.Slice(offset, spatial), scale, dst);
                    TensorPrimitives.Add(dst, shift, dst);
                }
            }
        }
    }
}

/// <summary>Pooling forward over square windows. x is (batch, C, H, W), y is (batch, C, OH, OW).</summary>
/// <typeparam name="TShape">The layer's constant dimensions.</typeparam>
public static partial class Pool2DKernel<TShape>
    where TShape : IPool2DShape
{
    /// <summary>Max pooling; padded taps never win (they count as −∞, as in PyTorch and ONNX).</summary>
    public static void MaxForward(ReadOnlySpan<float> x, Span<float> y, int batch) => Run(x, y, batch, max: true);

    /// <summary>Average pooling; padded taps count as zeros and the divisor is the window area (ONNX count_include_pad = 1).</summary>
    public static void AvgForward(ReadOnlySpan<float> x, Span<float> y, int batch) => Run(x, y, batch, max: false);

    private static void Run(ReadOnlySpan<float> x, Span<float> y, int batch, bool max)
    {
        int k = TShape.Window, s = TShape.Stride, pad = TShape.Padding, h = TShape.InHeight, w = TShape.InWidth;
        int oh = TShape.OutHeight, ow = TShape.OutWidth;
        var area = 1f / (k * k);
        for (var plane = 0; plane < batch * TShape.Channels; plane++)
        {
            var src = x.Slice(plane * h * w, h * w);
            var dst = y.Slice(plane * oh * ow, oh * ow);
            for (var oy = 0; oy < oh; oy++)
            {
                for (var ox = 0; ox < ow; ox++)
                {
                    var acc = max ? float.NegativeInfinity : 0f;
                    for (var ky = 0; ky < k; ky++)
                    {
                        var iy = (oy * s) - pad + ky;
                        if ((uint)iy >= (uint)h)
                        {
                            continue;
                        }

                        for (var kx = 0; kx < k; kx++)
                        {
                            var ix = (ox * s) - pad + kx;
                            if ((uint)ix >= (uint)w)
                            {
                                continue;
                            }

                            var v = src[(iy * w) + ix];
                            acc = max ? MathF.Max(acc, v) : acc + v;
                        }
                    }

                    dst[(oy * ow) + ox] = max ? acc : acc * area;
                }
            }
        }
    }
}

/// <summary>Global average pooling: <c>y[n, c] = mean over positions of x[n, c]</c>.</summary>
/// <typeparam name="TShape">Channels and positions per channel of the input.</typeparam>
public static partial class GlobalAvgPoolKernel<TShape>
    where TShape : IChannelShape
{
    /// <summary>Computes the layer for <paramref name="batch"/> samples.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, int batch)
    {
        var inv = 1f / TShape.Spatial;
        for (var i = 0; i < batch * TShape.Channels; i++)
        {
            y[i] = TensorPrimitives.Sum(x.Slice(i * TShape.Spatial, TShape.Spatial)) * inv;
        }
    }
}

/// <summary>Shape-free element-wise kernels (activations, add, concat, softmax); lengths are batch × sample size.</summary>
public static partial class ElementwiseKernels
{
    /// <summary>y = max(x, 0).</summary>
    public static void ReLU(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Max(x, 0f, y);

    /// <summary>y = x if x &gt; 0 else slope·x (for slope in [0, 1) that is max(x, slope·x)).</summary>
    public static void LeakyReLU(ReadOnlySpan<float> x, Span<float> y, float slope)
    {
        for (var i = 0; i < x.Length; i++)
        {
            var v = x[i];
            y[i] = v > 0 ? v : slope * v;
        }
    }

    /// <summary>y = 1 / (1 + e^(−x)).</summary>
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Sigmoid(x, y);

    /// <summary>y = tanh(x).</summary>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Tanh(x, y);

    /// <summary>y = a + b.</summary>
    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Add(a, b, y);

    /// <summary>Copies each sample of <paramref name="x"/> (of <paramref name="size"/> floats) into <paramref name="y"/> at <paramref name="offset"/> within samples of <paramref name="outSize"/> floats.</summary>
    public static void ConcatInto(ReadOnlySpan<float> x, int size, Span<float> y, int outSize, int offset, int batch)
    {
        for (var n = 0; n < batch; n++)
        {
            x.Slice(n * size, size).CopyTo(y.Slice((n * outSize) + offset, size));
        }
    }

    /// <summary>Softmax over each sample of <paramref name="size"/> floats: <c>y = e^(x − max x) / Σ e^(x − max x)</c>.</summary>
    public static void Softmax(ReadOnlySpan<float> x, Span<float> y, int size, int batch)
    {
        // TensorPrimitives.SoftMax computes e^x / Σ e^x as written: e^x overflows to ∞ for x > 88.7
        // and underflows to 0 for every x < −103, and either way the quotient is NaN. Shifting by the
        // sample's maximum changes nothing mathematically and keeps every exponent ≤ 0 with one = 0,
        // so the sum lies in [1, size] and nothing overflows or divides by zero.
        for (var n = 0; n < batch; n++)
        {
            var src = x.Slice(n * size, size);
            var dst = y.Slice(n * size, size);
            TensorPrimitives.Subtract(src, TensorPrimitives.Max(src), dst);
            TensorPrimitives.Exp(dst, dst);
            TensorPrimitives.Divide(dst, TensorPrimitives.Sum(dst), dst);
        }
    }
}
