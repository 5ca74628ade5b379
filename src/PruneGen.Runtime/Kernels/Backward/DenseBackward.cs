using System;
using System.Numerics.Tensors;

namespace PruneGen.Kernels;

public static unsafe partial class DenseKernel<TShape>
{
    /// <summary>
    /// Backward of <c>y[n, o] = b[o] + Σᵢ x[n, i]·W[o, i]</c> for x (batch, In), W (Out, In), dy (batch, Out):
    /// <c>dx += dy·W</c>, <c>dW += dyᵀ·x</c>, <c>db += Σₙ dy</c>. Gradients accumulate (+=), so a tensor read by
    /// several layers collects all of its contributions. <paramref name="dx"/> may be empty (network input).
    /// </summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> dy, Span<float> dx, Span<float> dWeight, Span<float> dBias, int batch)
    {
        fixed (float* px = x, pw = weight, pdy = dy, pdx = dx, pdw = dWeight)
        {
            if (!dx.IsEmpty)
            {
                Gemm.MultiplyNN(batch, TShape.In, TShape.Out, pdy, TShape.Out, pw, TShape.In, pdx, TShape.In, accumulate: true);
            }

            Gemm.MultiplyTN(TShape.Out, TShape.In, batch, pdy, TShape.Out, px, TShape.In, pdw, TShape.In, accumulate: true);
        }

        if (!dBias.IsEmpty)
        {
            for (var n = 0; n < batch; n++)
            {
                TensorPrimitives.Add(dBias, dy.Slice(n * TShape.Out, TShape.Out), dBias);
            }
        }
    }
}
