using System;
using System.Numerics.Tensors;

namespace PruneGen.Kernels;

public static unsafe partial class Conv2DKernel<TShape>
{
    /// <summary>
    /// Floats of scratch one thread of <see cref="Backward"/> needs: the unfolded input and its
    /// gradient, one sample's output gradient transposed, and the thread's own (transposed) weight and
    /// bias gradients, which are summed once all threads are done.
    /// </summary>
    public static int BackwardScratchLength => Math.Max(ScratchLength, (2 * PatchLength * OutSpatial) + (OutSpatial * GroupOut) + (TShape.Groups * PatchLength * GroupOut) + TShape.OutChannels);

    [ThreadStatic]
    private static BackwardWork? t_backward;

    /// <summary>
    /// Backward of <c>y_g = W_g · im2col(x_g) + b</c> per sample and group:
    /// <c>dW_g += dy_g · im2col(x_g)ᵀ</c>, <c>dx_g += col2im(W_gᵀ · dy_g)</c>, <c>db += Σ dy</c> over positions.
    /// Gradients accumulate. <paramref name="dx"/> may be empty (the layer reads the network input).
    /// Samples are split across <see cref="WorkerPool"/> threads; <paramref name="scratch"/> must hold
    /// <see cref="BackwardScratchLength"/> floats per thread.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> dy, Span<float> dx, Span<float> dWeight, Span<float> dBias, int batch, Span<float> scratch)
    {
        var parts = Math.Min(batch, WorkerPool.Workers);
        var stride = scratch.Length / parts;
        fixed (float* px = x, pw = weight, pdy = dy, pdx = dx, pdw = dWeight, ps = scratch)
        {
            var work = t_backward ??= new BackwardWork();
            work.X = px;
            work.W = pw;
            work.Dy = pdy;
            work.Dx = dx.IsEmpty ? null : pdx;
            work.Scratch = ps;
            work.ScratchStride = stride;
            work.Batch = batch;
            WorkerPool.Run(work, parts);

            // Sum the threads' transposed weight gradients (and bias gradients) into the layer's.
            var weights = TShape.Groups * PatchLength * GroupOut;
            for (var part = 0; part < parts; part++)
            {
                var dWeightT = ps + (part * stride) + (2 * PatchLength * OutSpatial) + (OutSpatial * GroupOut);
                for (var g = 0; g < TShape.Groups; g++)
                {
                    var dwT = dWeightT + (g * PatchLength * GroupOut);
                    var dw = pdw + (g * GroupOut * PatchLength);
                    for (var o = 0; o < GroupOut; o++)
                    {
                        for (var q = 0; q < PatchLength; q++)
                        {
                            dw[(o * PatchLength) + q] += dwT[(q * GroupOut) + o];
                        }
                    }
                }

                if (!dBias.IsEmpty)
                {
                    TensorPrimitives.Add(dBias, new ReadOnlySpan<float>(dWeightT + weights, TShape.OutChannels), dBias);
                }
            }
        }
    }

    /// <summary>One backward call's pointers; each part handles a contiguous range of samples with its own scratch.</summary>
    private sealed class BackwardWork : IParallelWork
    {
        public float* X;
        public float* W;
        public float* Dy;
        public float* Dx;
        public float* Scratch;
        public int ScratchStride;
        public int Batch;

        public void Execute(int part, int parts)
        {
            var cols = Scratch + (part * ScratchStride);
            var dcols = cols + (PatchLength * OutSpatial);
            var dOutT = dcols + (PatchLength * OutSpatial);
            var dWeightT = dOutT + (OutSpatial * GroupOut);
            var dBiasPart = dWeightT + (TShape.Groups * PatchLength * GroupOut);

            // The weight gradient is accumulated transposed, dWᵀ[patch, out] += cols · dyᵀ, so that the
            // product is vectorized along the output channels instead of along a short spatial axis.
            new Span<float>(dWeightT, (TShape.Groups * PatchLength * GroupOut) + TShape.OutChannels).Clear();
            var (from, to) = (Batch * part / parts, Batch * (part + 1) / parts);
            for (var n = from; n < to; n++)
            {
                for (var g = 0; g < TShape.Groups; g++)
                {
                    var input = X + (n * TShape.InChannels * InSpatial) + (g * GroupIn * InSpatial);
                    var dOut = Dy + (n * TShape.OutChannels * OutSpatial) + (g * GroupOut * OutSpatial);
                    var w = W + (g * GroupOut * PatchLength);
                    Transpose(dOut, GroupOut, OutSpatial, dOutT);

                    // 1×1 stride 1: the "columns" are the input itself.
                    var patches = Direct ? input : cols;
                    if (!Direct)
                    {
                        Im2Col(input, cols, OutSpatial);
                    }

                    Gemm.MultiplyNN(PatchLength, GroupOut, OutSpatial, patches, OutSpatial, dOutT, GroupOut, dWeightT + (g * PatchLength * GroupOut), GroupOut, accumulate: true);
                    if (Dx == null)
                    {
                        continue;
                    }

                    var dInput = Dx + (n * TShape.InChannels * InSpatial) + (g * GroupIn * InSpatial);
                    if (Direct)
                    {
                        Gemm.MultiplyTN(GroupIn, OutSpatial, GroupOut, w, PatchLength, dOut, OutSpatial, dInput, InSpatial, accumulate: true);
                    }
                    else
                    {
                        Gemm.MultiplyTN(PatchLength, OutSpatial, GroupOut, w, PatchLength, dOut, OutSpatial, dcols, OutSpatial, accumulate: false);
                        Col2ImAdd(dcols, dInput);
                    }
                }

                var dyn = Dy + (n * TShape.OutChannels * OutSpatial);
                for (var c = 0; c < TShape.OutChannels; c++)
                {
                    dBiasPart[c] += TensorPrimitives.Sum(new ReadOnlySpan<float>(dyn + (c * OutSpatial), OutSpatial));
                }
            }
        }
    }

    /// <summary>dst[c, r] = src[r, c] for a rows × cols source.</summary>
    private static void Transpose(float* src, int rows, int cols, float* dst)
    {
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < cols; c++)
            {
                dst[(c * rows) + r] = src[(r * cols) + c];
            }
        }
    }

    /// <summary>The adjoint of <c>Im2Col</c>: adds each column entry back onto the input position it was copied from.</summary>
    private static void Col2ImAdd(float* cols, float* dInput)
    {
        int k = TShape.Kernel, s = TShape.Stride, pad = TShape.Padding, h = TShape.InHeight, wd = TShape.InWidth;
        int oh = TShape.OutHeight, ow = TShape.OutWidth;
        var row = cols;
        for (var c = 0; c < GroupIn; c++)
        {
            var plane = dInput + (c * h * wd);
            for (var kh = 0; kh < k; kh++)
            {
                for (var kw = 0; kw < k; kw++)
                {
                    for (var y = 0; y < oh; y++)
                    {
                        var iy = (y * s) - pad + kh;
                        if ((uint)iy >= (uint)h)
                        {
                            continue;
                        }

                        var src = row + (y * ow);
                        var dst = plane + (iy * wd);
                        if (s == 1)
                        {
                            // Stride 1: the in-image part of the row is one contiguous run (see Im2Col).
                            var x0 = Math.Min(ow, Math.Max(0, pad - kw));
                            var x1 = Math.Max(x0, Math.Min(ow, wd + pad - kw));
                            var run = new Span<float>(dst + x0 - pad + kw, x1 - x0);
                            TensorPrimitives.Add(run, new ReadOnlySpan<float>(src + x0, x1 - x0), run);
                            continue;
                        }

                        for (var x = 0; x < ow; x++)
                        {
                            var ix = (x * s) - pad + kw;
                            if ((uint)ix < (uint)wd)
                            {
                                dst[ix] += src[x];
                            }
                        }
                    }

                    row += oh * ow;
                }
            }
        }
    }
}
