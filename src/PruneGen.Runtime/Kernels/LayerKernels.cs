using System;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using PruneGen.Model;

namespace PruneGen.Kernels;

/// <summary>
/// Dense forward: <c>y[n, o] = b[o] + Σᵢ x[n, i]·W[o, i]</c>. x is (batch, In), W is (Out, In), y is (batch, Out).
/// The store is fused like the convolution's (bias, a following BatchNorm, a residual, ReLU), and large
/// layers are split across <see cref="WorkerPool"/> threads by samples, or by units when a thread would have
/// fewer than <see cref="SamplesPerPart"/> samples.
/// <para>
/// Few samples multiply as <c>x·Wᵀ</c> (dot products along In, W read as stored). From
/// <see cref="TransposedMinRows"/> samples on, a thread's samples are transposed and multiplied as
/// <c>yᵀ = W·xᵀ</c> instead, vectorized along the samples with W's entries broadcast, and yᵀ is transposed back:
/// the dot products end in one horizontal sum per output, which the broadcast form does not need.
/// </para>
/// </summary>
/// <typeparam name="TShape">The layer's constant dimensions.</typeparam>
public static unsafe partial class DenseKernel<TShape>
    where TShape : IDenseShape
{
    /// <summary>
    /// Below this many multiply-adds per call, waking a second thread costs more than it saves. Two threads, µs of
    /// one call outside a forward pass (threads woken, not spinning) at 1M / 4M: 256 → 128 at 64 samples 21 / 40,
    /// 784 → 256 at 8 samples 24 / 35.
    /// </summary>
    private const long ParallelMacs = 1024 * 1024;

    /// <summary>
    /// The same while the workers spin (<see cref="WorkerPool.Spinning"/>, a forward pass's burst), where handing them a
    /// part costs no wake-up: one sample of a wide layer, which streams its weights once, splits its units.
    /// Two threads, µs unsplit / split: 784 → 256 9.7 / 5.2, 1152 → 256 12.8 / 8.2.
    /// </summary>
    private const long SpinningParallelMacs = 128 * 1024;

    /// <summary>
    /// Fewest samples per thread when a call is split by samples: the x·Wᵀ kernel multiplies 4 samples by 4 units at
    /// a time, so with fewer each thread takes a share of the units instead (1152 → 256 at 4 samples: 34 µs split
    /// by samples, 13 by units; two threads).
    /// </summary>
    private const int SamplesPerPart = 4;

    /// <summary>
    /// Samples per thread from which the transposed product wins. One thread, Zen 4, µs as x·Wᵀ / transposed:
    /// 784 → 256 at 16 samples 69 / 80, 32: 133 / 119, 48: 232 / 200, 64: 272 / 246, 96: 413 / 371;
    /// 256 → 128 at 64: 57 / 45.
    /// </summary>
    private const int TransposedMinRows = 32;

    [ThreadStatic]
    private static ForwardWork? t_forward;

    /// <summary>Computes the layer for <paramref name="batch"/> samples; <paramref name="bias"/> is empty when the layer has none.</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, int batch) =>
        ForwardFused(x, weight, bias, default, ReadOnlySpan<float>.Empty, y, batch, relu: false);

    /// <summary>
    /// Computes <c>y = act(BN(x·Wᵀ + b) + residual)</c> in one pass: <paramref name="norm"/> is the following
    /// BatchNorm (or <c>default</c>), <paramref name="residual"/> a tensor of y's shape (or empty).
    /// </summary>
    public static void ForwardFused(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, BatchNormParameters norm, ReadOnlySpan<float> residual, Span<float> y, int batch, bool relu)
    {
        var work = t_forward ??= new ForwardWork();
        norm.Fold(bias, work.Scale, work.Shift);
        var parts = (long)batch * TShape.In * TShape.Out >= (WorkerPool.Spinning ? SpinningParallelMacs : ParallelMacs) ? WorkerPool.Workers : 1;

        // Each thread's xᵀ and yᵀ rows are padded to whole vectors: the product then has no column tail, which it
        // would run one column at a time (20 samples took twice as long as 32). The padding is computed too, so
        // the transposed form is taken only where it is at most an eighth of the rows. Without vectors (the scalar
        // fallback) there is no horizontal sum to save, only the transposes to pay.
        var rowsPerPart = (batch + parts - 1) / parts;
        work.TransposedRows = LayerNode.AlignColumns(rowsPerPart);
        work.Transposed = rowsPerPart >= TransposedMinRows && (work.TransposedRows - rowsPerPart) * 8 <= rowsPerPart && Simd.Level != SimdLevel.Scalar;
        if (work.Transposed)
        {
            var length = (parts * work.TransposedRows * (TShape.In + TShape.Out)) + 16;
            if (work.Buffer.Length < length)
            {
                work.Buffer = new float[length];
            }
        }

        fixed (float* px = x, pw = weight, py = y, pr = residual, scale = work.Scale, shift = work.Shift, buffer = work.Buffer)
        {
            // Cache-line aligned, so no vector load of the product's xᵀ rows (a multiple of 16 floats long) splits two
            // lines (the MLP at batch 64, one thread, quick run: 322 µs median unaligned, 285 aligned).
            work.Transposes = (float*)(((nint)buffer + 63) & ~(nint)63);
            work.X = px;
            work.W = pw;
            work.Y = py;
            work.Residual = residual.IsEmpty ? null : pr;
            work.ScaleData = scale;
            work.ShiftData = shift;
            work.Affine = !bias.IsEmpty || !norm.IsEmpty;
            work.Scaled = !norm.IsEmpty;
            work.Relu = relu;
            work.Batch = batch;
            WorkerPool.Run(work, parts);
        }
    }

    /// <summary>One call's state: each part computes a range of samples (or, for small batches, of units).</summary>
    private sealed class ForwardWork : IParallelWork
    {
        public readonly float[] Scale = new float[TShape.Out];
        public readonly float[] Shift = new float[TShape.Out];

        /// <summary>xᵀ and yᵀ of the transposed product: (In + Out) × <see cref="TransposedRows"/> floats for each thread, in part order.</summary>
        public float[] Buffer = [];
        public float* Transposes;
        public int TransposedRows;
        public bool Transposed;
        public float* X;
        public float* W;
        public float* Y;
        public float* Residual;
        public float* ScaleData;
        public float* ShiftData;
        public bool Affine;
        public bool Scaled;
        public bool Relu;
        public int Batch;

        public void Execute(int part, int parts)
        {
            int rows0 = 0, rows1 = Batch, units0 = 0, units1 = TShape.Out;
            if (Batch >= SamplesPerPart * parts)
            {
                (rows0, rows1) = (Batch * part / parts, Batch * (part + 1) / parts);
            }
            else
            {
                (units0, units1) = (TShape.Out * part / parts, TShape.Out * (part + 1) / parts);
            }

            var (rows, units) = (rows1 - rows0, units1 - units0);
            if (rows <= 0 || units <= 0)
            {
                return;
            }

            var y = Y + (rows0 * TShape.Out) + units0;
            if (Transposed)
            {
                // Rows are split, units are not: this thread's xᵀ (In × ld) and yᵀ (Out × ld); the columns past
                // its rows hold stale values, multiplied and dropped.
                var ld = TransposedRows;
                var xt = Transposes + (part * ld * (TShape.In + TShape.Out));
                var yt = xt + (ld * TShape.In);
                Transpose.Matrix(X + (rows0 * TShape.In), rows, TShape.In, TShape.In, xt, ld);
                Gemm.MultiplyNN(TShape.Out, ld, TShape.In, W, TShape.In, xt, ld, yt, ld, accumulate: false);
                Transpose.Matrix(yt, TShape.Out, rows, ld, y, TShape.Out);
            }
            else
            {
                Gemm.MultiplyNT(rows, units, TShape.In, X + (rows0 * TShape.In), TShape.In, W + (units0 * TShape.In), TShape.In, y, TShape.Out, accumulate: false);
            }

            if (!Affine && Residual == null && !Relu)
            {
                return;
            }

            for (var n = 0; n < rows; n++)
            {
                var row = y + (n * TShape.Out);
                var residual = Residual == null ? null : Residual + ((rows0 + n) * TShape.Out) + units0;
                if (Affine)
                {
                    Epilogue.Row(row, residual, units, ScaleData + units0, ShiftData + units0, Scaled, Relu);
                }
                else
                {
                    Epilogue.Channel(row, row, residual, units, 1f, 0f, Relu);
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

/// <summary>
/// Pooling forward over square windows. x is (batch, C, H, W), y is (batch, C, OH, OW). Channel planes are
/// split across <see cref="WorkerPool"/> threads when the tensor is large; the common 2×2 stride-2 window has
/// its own loop without per-tap bounds checks.
/// </summary>
/// <typeparam name="TShape">The layer's constant dimensions.</typeparam>
public static unsafe partial class Pool2DKernel<TShape>
    where TShape : IPool2DShape
{
    /// <summary>Below this many input floats one thread does the whole tensor.</summary>
    private const int ParallelFloats = 32 * 1024;

    [ThreadStatic]
    private static PoolWork? t_work;

    /// <summary>Max pooling; padded taps never win (they count as −∞, as in PyTorch and ONNX).</summary>
    public static void MaxForward(ReadOnlySpan<float> x, Span<float> y, int batch) => Run(x, y, batch, max: true);

    /// <summary>Average pooling; padded taps count as zeros and the divisor is the window area (ONNX count_include_pad = 1).</summary>
    public static void AvgForward(ReadOnlySpan<float> x, Span<float> y, int batch) => Run(x, y, batch, max: false);

    private static void Run(ReadOnlySpan<float> x, Span<float> y, int batch, bool max)
    {
        var planes = batch * TShape.Channels;
        var parts = planes * TShape.InHeight * TShape.InWidth >= ParallelFloats ? Math.Min(planes, WorkerPool.Workers) : 1;
        fixed (float* px = x, py = y)
        {
            var work = t_work ??= new PoolWork();
            work.X = px;
            work.Y = py;
            work.Planes = planes;
            work.Max = max;
            WorkerPool.Run(work, parts);
        }
    }

    private static void Planes(float* x, float* y, int from, int to, bool max)
    {
        int k = TShape.Window, s = TShape.Stride, pad = TShape.Padding, h = TShape.InHeight, w = TShape.InWidth;
        int oh = TShape.OutHeight, ow = TShape.OutWidth;
        if (max && k == 2 && s == 2 && pad == 0 && oh * 2 <= h && ow * 2 <= w)
        {
            if (Simd.PairPermutes)
            {
                MaxPairs(x, y, from, to);
                return;
            }

            // Every window lies inside the plane: four loads and three max per output.
            for (var plane = from; plane < to; plane++)
            {
                var src = x + (plane * h * w);
                var dst = y + (plane * oh * ow);
                for (var oy = 0; oy < oh; oy++)
                {
                    float* r0 = src + (2 * oy * w), r1 = r0 + w, d = dst + (oy * ow);
                    for (var ox = 0; ox < ow; ox++)
                    {
                        d[ox] = MathF.Max(MathF.Max(r0[2 * ox], r0[(2 * ox) + 1]), MathF.Max(r1[2 * ox], r1[(2 * ox) + 1]));
                    }
                }
            }

            return;
        }

        var area = 1f / (k * k);
        for (var plane = from; plane < to; plane++)
        {
            var src = x + (plane * h * w);
            var dst = y + (plane * oh * ow);
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

    /// <summary>
    /// 2×2 stride-2 max pooling of planes <paramref name="from"/> to <paramref name="to"/> − 1, 16 outputs at a time: the
    /// larger of two input rows, 32 floats, then the larger of its even and odd columns (two-source permutes). A vector
    /// may run past its output row into the next, which is stored after it, but not past this part's planes (nor its
    /// reads past them); the rest goes one output at a time. One output at a time, LeNet-5's first pooling took a
    /// tenth of its batch-64 forward pass.
    /// </summary>
    private static void MaxPairs(float* x, float* y, int from, int to)
    {
        int h = TShape.InHeight, w = TShape.InWidth, oh = TShape.OutHeight, ow = TShape.OutWidth;
        float* xEnd = x + (to * h * w), yEnd = y + (to * oh * ow);
        for (var plane = from; plane < to; plane++)
        {
            var src = x + (plane * h * w);
            var dst = y + (plane * oh * ow);
            for (var oy = 0; oy < oh; oy++)
            {
                float* r0 = src + (2 * oy * w), r1 = r0 + w, d = dst + (oy * ow);
                var ox = 0;
                for (; ox < ow && r1 + (2 * ox) + 32 <= xEnd && d + ox + 16 <= yEnd; ox += 16)
                {
                    var a = Vector512.Max(Vector512.Load(r0 + (2 * ox)), Vector512.Load(r1 + (2 * ox)));
                    var b = Vector512.Max(Vector512.Load(r0 + (2 * ox) + 16), Vector512.Load(r1 + (2 * ox) + 16));
                    Vector512.Max(Avx512F.PermuteVar16x32x2(a, Simd.EvenLanes, b), Avx512F.PermuteVar16x32x2(a, Simd.OddLanes, b)).Store(d + ox);
                }

                for (; ox < ow; ox++)
                {
                    d[ox] = MathF.Max(MathF.Max(r0[2 * ox], r0[(2 * ox) + 1]), MathF.Max(r1[2 * ox], r1[(2 * ox) + 1]));
                }
            }
        }
    }

    /// <summary>One call's pointers; each part pools a contiguous range of channel planes.</summary>
    private sealed class PoolWork : IParallelWork
    {
        public float* X;
        public float* Y;
        public int Planes;
        public bool Max;

        public void Execute(int part, int parts) => Pool2DKernel<TShape>.Planes(X, Y, Planes * part / parts, Planes * (part + 1) / parts, Max);
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
