using System;
using System.Numerics.Tensors;
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
            var seg = new ReadOnlySpan<float>(w.X + (((n * TShape.Channels) + c) * spatial), spatial);
            sum += TensorPrimitives.Sum(seg);
            squares += TensorPrimitives.SumOfSquares(seg);
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
            var dst = new Span<float>(w.Y + offset, spatial);
            TensorPrimitives.Multiply(new ReadOnlySpan<float>(w.X + offset, spatial), scale, dst);
            TensorPrimitives.Add(dst, shift, dst);
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
            var g = new ReadOnlySpan<float>(w.Dy + offset, spatial);
            sumDy += TensorPrimitives.Sum(g);
            sumDyX += TensorPrimitives.Dot(g, new ReadOnlySpan<float>(w.X + offset, spatial));
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
            var d = new Span<float>(w.Dx + offset, spatial);
            TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(w.Dy + offset, spatial), a, d, d);
            TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(w.X + offset, spatial), b, d, d);
            TensorPrimitives.Add(d, c0, d);
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
