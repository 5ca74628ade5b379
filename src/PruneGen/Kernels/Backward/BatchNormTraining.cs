using System;
using System.Numerics.Tensors;
using PruneGen.Model;

namespace PruneGen.Kernels;

public static partial class BatchNormKernel<TShape>
{
    /// <summary>
    /// Training-mode BatchNorm: normalizes with the batch's own mean and (biased) variance over
    /// batch × positions, <c>y = γ·(x − μ_B)·invstd + β</c>, saves μ_B and invstd for the backward pass,
    /// and updates the running statistics with <paramref name="momentum"/> (PyTorch's rule: the running
    /// variance takes the unbiased batch variance).
    /// </summary>
    public static void TrainForward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> runningMean, Span<float> runningVariance, Span<float> y, Span<float> savedMean, Span<float> savedInvStd, int batch, float momentum)
    {
        var spatial = TShape.Spatial;
        var count = batch * spatial;
        for (var c = 0; c < TShape.Channels; c++)
        {
            double sum = 0;
            for (var n = 0; n < batch; n++)
            {
                sum += TensorPrimitives.Sum(x.Slice(((n * TShape.Channels) + c) * spatial, spatial));
            }

            var mean = (float)(sum / count);
            double squares = 0;
            for (var n = 0; n < batch; n++)
            {
                // Σ(x − μ)² = Σx² − 2μΣx + nμ², per segment in float (vectorized), summed in double.
                var seg = x.Slice(((n * TShape.Channels) + c) * spatial, spatial);
                squares += TensorPrimitives.SumOfSquares(seg) - (2.0 * mean * TensorPrimitives.Sum(seg)) + (spatial * (double)mean * mean);
            }

            squares = Math.Max(0, squares);
            var variance = (float)(squares / count);
            var invStd = 1f / MathF.Sqrt(variance + NetworkBuilder.BatchNormEpsilon);
            savedMean[c] = mean;
            savedInvStd[c] = invStd;
            var scale = gamma[c] * invStd;
            var shift = beta[c] - (mean * scale);
            for (var n = 0; n < batch; n++)
            {
                var offset = ((n * TShape.Channels) + c) * spatial;
                var dst = y.Slice(offset, spatial);
                TensorPrimitives.Multiply(x.Slice(offset, spatial), scale, dst);
                TensorPrimitives.Add(dst, shift, dst);
            }

            var unbiased = count > 1 ? variance * count / (count - 1) : variance;
            runningMean[c] = ((1 - momentum) * runningMean[c]) + (momentum * mean);
            runningVariance[c] = ((1 - momentum) * runningVariance[c]) + (momentum * unbiased);
        }
    }

    /// <summary>
    /// Backward of training-mode BatchNorm, with x̂ = (x − μ_B)·invstd and M = batch × positions:
    /// <c>dβ += Σ dy</c>, <c>dγ += Σ dy·x̂</c>, <c>dx += γ·invstd/M · (M·dy − Σ dy − x̂·Σ dy·x̂)</c>.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> savedMean, ReadOnlySpan<float> savedInvStd, ReadOnlySpan<float> dy, Span<float> dx, Span<float> dGamma, Span<float> dBeta, int batch)
    {
        var spatial = TShape.Spatial;
        var count = batch * spatial;
        for (var c = 0; c < TShape.Channels; c++)
        {
            float mean = savedMean[c], invStd = savedInvStd[c];
            double sumDy = 0, sumDyX = 0;
            for (var n = 0; n < batch; n++)
            {
                var offset = ((n * TShape.Channels) + c) * spatial;
                sumDy += TensorPrimitives.Sum(dy.Slice(offset, spatial));
                sumDyX += TensorPrimitives.Dot(dy.Slice(offset, spatial), x.Slice(offset, spatial));
            }

            // Σ dy·x̂ = invstd·(Σ dy·x − μ·Σ dy)
            var sumDyXhat = invStd * (sumDyX - (mean * sumDy));
            dBeta[c] += (float)sumDy;
            dGamma[c] += (float)sumDyXhat;
            if (dx.IsEmpty)
            {
                continue;
            }

            // dx += k·(M·dy − Σdy − x̂·Σdy·x̂) with x̂ = (x − μ)·invstd, i.e. dx += a·dy + b·x + c0.
            var k = gamma[c] * invStd / count;
            var a = k * count;
            var b = (float)(-k * sumDyXhat * invStd);
            var c0 = (float)(k * (-sumDy + (mean * invStd * sumDyXhat)));
            for (var n = 0; n < batch; n++)
            {
                var offset = ((n * TShape.Channels) + c) * spatial;
                var d = dx.Slice(offset, spatial);
                TensorPrimitives.MultiplyAdd(dy.Slice(offset, spatial), a, d, d);
                TensorPrimitives.MultiplyAdd(x.Slice(offset, spatial), b, d, d);
                TensorPrimitives.Add(d, c0, d);
            }
        }
    }
}
