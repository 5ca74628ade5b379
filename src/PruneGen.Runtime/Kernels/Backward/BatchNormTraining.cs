using System;
using PruneGen.Model;

namespace PruneGen.Kernels;

public static unsafe partial class BatchNormKernel<TShape>
{
    /// <summary>Below this many elements per call, splitting channels across threads costs more than it saves.</summary>
    private const int ParallelThreshold = 1 << 15;

    [ThreadStatic]
    private static TrainingWork? t_work;

    /// <summary>
    /// Training-mode BatchNorm: normalizes with the batch's own mean and (biased) variance over
    /// batch × positions, <c>y = γ·(x − μ_B)·invstd + β</c>, saves μ_B and invstd for the backward pass,
    /// and updates the running statistics with <paramref name="momentum"/> (PyTorch's rule: the running
    /// variance takes the unbiased batch variance). Channels are split across <see cref="WorkerPool"/> threads.
    /// </summary>
    public static void TrainForward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> runningMean, Span<float> runningVariance, Span<float> y, Span<float> savedMean, Span<float> savedInvStd, int batch, float momentum)
    {
        fixed (float* px = x, pg = gamma, pb = beta, prm = runningMean, prv = runningVariance, py = y, pm = savedMean, ps = savedInvStd)
        {
            var work = t_work ??= new TrainingWork();
            work.Backward = false;
            work.X = px;
            work.Gamma = pg;
            work.Beta = pb;
            work.RunningMean = prm;
            work.RunningVariance = prv;
            work.Y = py;
            work.Mean = pm;
            work.InvStd = ps;
            work.Batch = batch;
            work.Momentum = momentum;
            Run(work, batch);
        }
    }

    /// <summary>
    /// Backward of training-mode BatchNorm, with x̂ = (x − μ_B)·invstd and M = batch × positions:
    /// <c>dβ += Σ dy</c>, <c>dγ += Σ dy·x̂</c>, <c>dx += γ·invstd/M · (M·dy − Σ dy − x̂·Σ dy·x̂)</c>.
    /// Channels are split across <see cref="WorkerPool"/> threads. <paramref name="dx"/> may be empty.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> savedMean, ReadOnlySpan<float> savedInvStd, ReadOnlySpan<float> dy, Span<float> dx, Span<float> dGamma, Span<float> dBeta, int batch)
    {
        fixed (float* px = x, pg = gamma, pm = savedMean, ps = savedInvStd, pdy = dy, pdx = dx, pdg = dGamma, pdb = dBeta)
        {
            var work = t_work ??= new TrainingWork();
            work.Backward = true;
            work.X = px;
            work.Gamma = pg;
            work.Mean = pm;
            work.InvStd = ps;
            work.Dy = pdy;
            work.Dx = dx.IsEmpty ? null : pdx;
            work.DGamma = pdg;
            work.DBeta = pdb;
            work.Batch = batch;
            Run(work, batch);
        }
    }

    private static void Run(TrainingWork work, int batch)
    {
        var parts = batch * TShape.Channels * TShape.Spatial >= ParallelThreshold ? Math.Min(WorkerPool.Workers, TShape.Channels) : 1;
        WorkerPool.Run(work, parts);
    }

    private static void ForwardChannel(TrainingWork w, int c)
    {
        var spatial = TShape.Spatial;
        var count = w.Batch * spatial;
        double sum = 0, squares = 0;
        for (var n = 0; n < w.Batch; n++)
        {
            var seg = w.X + (((n * TShape.Channels) + c) * spatial);
            var (segmentSum, segmentSquares) = SumAndDot(seg, seg, spatial);
            sum += segmentSum;
            squares += segmentSquares;
        }

        // Var = E[x²] − μ², accumulated in double over float per-segment sums (vectorized).
        var mean = sum / count;
        var variance = (float)Math.Max(0, (squares / count) - (mean * mean));
        var invStd = 1f / MathF.Sqrt(variance + NetworkBuilder.BatchNormEpsilon);
        w.Mean[c] = (float)mean;
        w.InvStd[c] = invStd;
        var scale = w.Gamma[c] * invStd;
        var shift = w.Beta[c] - ((float)mean * scale);
        for (var n = 0; n < w.Batch; n++)
        {
            var offset = ((n * TShape.Channels) + c) * spatial;
            Epilogue.Run(w.X + offset, w.Y + offset, null, spatial, scale, shift, relu: false, w.Y + offset + spatial);
        }

        var unbiased = count > 1 ? variance * count / (count - 1) : variance;
        w.RunningMean[c] = ((1 - w.Momentum) * w.RunningMean[c]) + (w.Momentum * (float)mean);
        w.RunningVariance[c] = ((1 - w.Momentum) * w.RunningVariance[c]) + (w.Momentum * unbiased);
    }

    private static void BackwardChannel(TrainingWork w, int c)
    {
        var spatial = TShape.Spatial;
        var count = w.Batch * spatial;
        float mean = w.Mean[c], invStd = w.InvStd[c];
        double sumDy = 0, sumDyX = 0;
        for (var n = 0; n < w.Batch; n++)
        {
            var offset = ((n * TShape.Channels) + c) * spatial;
            var (segmentDy, segmentDyX) = SumAndDot(w.Dy + offset, w.X + offset, spatial);
            sumDy += segmentDy;
            sumDyX += segmentDyX;
        }

        // Σ dy·x̂ = invstd·(Σ dy·x − μ·Σ dy)
        var sumDyXhat = invStd * (sumDyX - (mean * sumDy));
        w.DBeta[c] += (float)sumDy;
        w.DGamma[c] += (float)sumDyXhat;
        if (w.Dx == null)
        {
            return;
        }

        // dx += k·(M·dy − Σdy − x̂·Σdy·x̂) with x̂ = (x − μ)·invstd, i.e. dx += a·dy + b·x + c0.
        var k = w.Gamma[c] * invStd / count;
        var a = k * count;
        var b = (float)(-k * sumDyXhat * invStd);
        var c0 = (float)(k * (-sumDy + (mean * invStd * sumDyXhat)));
        for (var n = 0; n < w.Batch; n++)
        {
            var offset = ((n * TShape.Channels) + c) * spatial;
            AddAffine(w.Dy + offset, w.X + offset, w.Dx + offset, spatial, a, b, c0);
        }
    }

    /// <summary>
    /// <c>(Σ a, Σ a·b)</c> over <paramref name="count"/> floats in one pass: Σx and Σx² of the forward statistics, Σdy and
    /// Σdy·x of the backward. These were <c>TensorPrimitives</c> calls, a pass per statistic (and three for dx, two for y):
    /// such passes, mostly BatchNorm's, took a quarter of TinyResNetL1Quarter's training-step samples in `perf`, and one
    /// pass each took its step from 40.3 to 36.4–38.9 ms (tiny ResNet 100–101 → 93.7–96.2 ms; batch 64, one thread).
    /// </summary>
    private static (float Sum, float Dot) SumAndDot(float* a, float* b, int count) => Simd.Level switch
    {
        SimdLevel.Vector512 => SumAndDot<V512>(a, b, count),
        SimdLevel.Vector256 => SumAndDot<V256>(a, b, count),
        _ => SumAndDot<V1>(a, b, count),
    };

    private static (float Sum, float Dot) SumAndDot<T>(float* a, float* b, int count)
        where T : unmanaged, IVector<T>
    {
        T s0 = T.Zero, s1 = T.Zero, d0 = T.Zero, d1 = T.Zero;
        var i = 0;
        for (; i + (2 * T.Count) <= count; i += 2 * T.Count)
        {
            T x0 = T.Load(a + i), x1 = T.Load(a + i + T.Count);
            s0 = T.Add(s0, x0);
            s1 = T.Add(s1, x1);
            d0 = T.MultiplyAdd(x0, T.Load(b + i), d0);
            d1 = T.MultiplyAdd(x1, T.Load(b + i + T.Count), d1);
        }

        for (; i + T.Count <= count; i += T.Count)
        {
            var x0 = T.Load(a + i);
            s0 = T.Add(s0, x0);
            d0 = T.MultiplyAdd(x0, T.Load(b + i), d0);
        }

        float sum = T.Sum(T.Add(s0, s1)), dot = T.Sum(T.Add(d0, d1));
        for (; i < count; i++)
        {
            sum += a[i];
            dot += a[i] * b[i];
        }

        return (sum, dot);
    }

    /// <summary><c>dx += a·dy + b·x + c0</c> over <paramref name="count"/> floats in one pass.</summary>
    private static void AddAffine(float* dy, float* x, float* dx, int count, float a, float b, float c0)
    {
        switch (Simd.Level)
        {
            case SimdLevel.Vector512:
                AddAffine<V512>(dy, x, dx, count, a, b, c0);
                break;
            case SimdLevel.Vector256:
                AddAffine<V256>(dy, x, dx, count, a, b, c0);
                break;
            default:
                AddAffine<V1>(dy, x, dx, count, a, b, c0);
                break;
        }
    }

    private static void AddAffine<T>(float* dy, float* x, float* dx, int count, float a, float b, float c0)
        where T : unmanaged, IVector<T>
    {
        T va = T.Broadcast(a), vb = T.Broadcast(b), vc = T.Broadcast(c0);
        var i = 0;
        for (; i + T.Count <= count; i += T.Count)
        {
            T.Store(T.MultiplyAdd(T.Load(dy + i), va, T.MultiplyAdd(T.Load(x + i), vb, T.Add(T.Load(dx + i), vc))), dx + i);
        }

        for (; i < count; i++)
        {
            dx[i] += (a * dy[i]) + (b * x[i]) + c0;
        }
    }

    /// <summary>One training call's pointers; each part handles a contiguous range of channels.</summary>
    private sealed class TrainingWork : IParallelWork
    {
        public bool Backward;
        public float* X;
        public float* Gamma;
        public float* Beta;
        public float* RunningMean;
        public float* RunningVariance;
        public float* Y;
        public float* Mean;
        public float* InvStd;
        public float* Dy;
        public float* Dx;
        public float* DGamma;
        public float* DBeta;
        public int Batch;
        public float Momentum;

        public void Execute(int part, int parts)
        {
            var (from, to) = (TShape.Channels * part / parts, TShape.Channels * (part + 1) / parts);
            for (var c = from; c < to; c++)
            {
                if (Backward)
                {
                    BackwardChannel(this, c);
                }
                else
                {
                    ForwardChannel(this, c);
                }
            }
        }
    }
}
