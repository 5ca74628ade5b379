using System;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using PruneGen.Model;

namespace PruneGen.Kernels;

public static unsafe partial class Conv2DKernel<TShape>
{
    /// <summary>
    /// Floats of scratch one thread of <see cref="Backward"/> needs: the unfolded input and its gradient (or the
    /// implicit input gradient's product, if larger), one sample's output gradient transposed, the thread's own
    /// (transposed) weight and bias gradients, which are summed once all threads are done, the zero-bordered input
    /// im2col copies from and the bordered output gradient of the implicit input gradient. The transposed tensors have
    /// <see cref="PaddedGroupOut"/> columns (as <c>LayerNode.BackwardScratchLength</c> counts them).
    /// </summary>
    public static int BackwardScratchLength => Math.Max(ScratchLength, WeightGradientOffset + (TShape.Groups * PatchLength * PaddedGroupOut) + TShape.OutChannels + PaddedInputLength + BorderedGradientLength);

    /// <summary>Where the transposed weight gradients start in a thread's backward scratch.</summary>
    private static int WeightGradientOffset => (PatchLength * OutSpatial) + Math.Max(PatchLength * OutSpatial, InputGradientProductLength) + (OutSpatial * PaddedGroupOut);

    /// <summary>
    /// Output channels of a group rounded up to whole 512-bit vectors: the weight gradient's product is
    /// vectorized along the output channels, and a pruned width (22, 45, 90) would otherwise leave its last
    /// columns to the one-lane kernel, 16 times slower. The padding columns of the transposed output gradient
    /// are zero, so their products are zero and are never read back.
    /// </summary>
    private static int PaddedGroupOut => LayerNode.AlignColumns(GroupOut);

    /// <summary>
    /// Whether the weight gradient is accumulated in the weights' own layout, <c>dW[co, patch] += dy · colsᵀ</c>, as dot
    /// products along the output positions (<see cref="Gemm.MultiplyNT"/>), instead of transposed and vectorized along the
    /// output channels: for one input channel per group (first layers on grey images, depthwise layers), whose patch is
    /// only K·K long and whose few output channels per group fill the vectors poorly. Weight gradient alone, batch 64,
    /// one thread, µs transposed / by rows: depthwise 32@14² 2 238 / 732, LeNet-5's 1→6 5×5 826 / 296, 1→16 3×3 364 /
    /// 283, 1→8 295 / 161, VggNet's 1→32 644 / 520; but with more input channels it loses (6→16 5×5 583 / 1 051, 16→32
    /// stride 2 1 533 / 2 619).
    /// </summary>
    private static bool WeightGradientByRows => GroupIn == 1;

    /// <summary>
    /// Whether the input gradient is computed as a convolution of the output gradient, bordered by K − 1 − P, with the
    /// flipped and transposed weights, straight from the bordered gradient like the forward's implicit path
    /// (<c>dx[ci, y, x] = Σ W[co, ci, K−1−kh, K−1−kw] · dyb[co, y + kh, x + kw]</c>), instead of <c>Wᵀ·dy</c> followed
    /// by col2im: one NN product and no scatter of nine shifted copies.
    /// </summary>
    private static bool ImplicitInputGradient => Implicit && TShape.Padding <= TShape.Kernel - 1;

    private static int GradientBorder => TShape.Kernel - 1 - TShape.Padding;

    /// <summary>
    /// Whether the input gradient runs as a Winograd convolution (<see cref="GradientConv{TShape}"/> on the flipped weights)
    /// instead of the implicit product: when that convolution takes the Winograd path, as a forward layer of its shape
    /// would. Measured one thread, batch 64 (probe of this kernel): the input-gradient half of VggNet's 32→32 layer at 28²
    /// takes 6.7 ms this way against 9.9 ms by the implicit product, its 64→64 layer at 14² 6.1 against 11.9 ms.
    /// </summary>
    private static bool WinogradInputGradient => ImplicitInputGradient && TShape.Groups == 1 && Conv2DKernel<GradientConv<TShape>>.WinogradShape;

    private static int GradientBorderedHeight => TShape.OutHeight + (2 * GradientBorder);

    private static int GradientBorderedWidth => TShape.OutWidth + (2 * GradientBorder);

    /// <summary>Columns of the implicit input-gradient product: the input rows at the bordered gradient's width, in whole vectors.</summary>
    private static int InputGradientColumns => LayerNode.AlignColumns(TShape.InHeight * GradientBorderedWidth);

    private static int InputGradientProductLength => ImplicitInputGradient ? GroupIn * InputGradientColumns : 0;

    /// <summary>The bordered output gradient of one group, with slack for the product's last vectors (as for the input).</summary>
    private static int BorderedGradientLength => ImplicitInputGradient ? (GroupOut * GradientBorderedHeight * GradientBorderedWidth) + LayerNode.Im2ColRowAlignment + TShape.Kernel : 0;

    /// <summary>Offset of tap (co, kh, kw) in the bordered output gradient (the implicit input gradient's row table).</summary>
    private static readonly int[] GradientTapOffsets = CreateGradientTapOffsets();

    private static int[] CreateGradientTapOffsets()
    {
        var offsets = new int[GroupOut * TShape.Kernel * TShape.Kernel];
        for (var co = 0; co < GroupOut; co++)
        {
            for (var kh = 0; kh < TShape.Kernel; kh++)
            {
                for (var kw = 0; kw < TShape.Kernel; kw++)
                {
                    offsets[(((co * TShape.Kernel) + kh) * TShape.Kernel) + kw] = (((co * GradientBorderedHeight) + kh) * GradientBorderedWidth) + kw;
                }
            }
        }

        return offsets;
    }

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
            if (ImplicitInputGradient && !dx.IsEmpty)
            {
                Flip(pw, work.Flipped);
            }

            if (BroadcastInputGradient && !dx.IsEmpty)
            {
                BroadcastGradientPrepare(work, pw, parts);
            }

            // The input gradient by Winograd after the pass below (which then does the bias gradient and whatever else is
            // not by Winograd), as its own split of the samples.
            var winograd = WinogradInputGradient && !dx.IsEmpty && (batch > 1 || Conv2DKernel<GradientConv<TShape>>.WinogradSingleSample);
            if (winograd)
            {
                work.Dx = null;
            }

            // Likewise the weight gradient, as its own split of the samples.
            var winogradWeights = WinogradWeightGradient && (batch > 1 || WinogradSingleSample);
            work.WeightGradient = !winogradWeights;
            work.Batch = batch;
            fixed (float* flipped = work.Flipped)
            {
                work.FlippedData = flipped;
                WorkerPool.Run(work, parts);
                if (winograd)
                {
                    Conv2DKernel<GradientConv<TShape>>.WinogradAccumulate(pdy, flipped, pdx, batch);
                }
            }

            if (winogradWeights && Winograd4Pays)
            {
                Winograd4WeightGradientOf(px, pdy, pdw, batch);
            }
            else if (winogradWeights)
            {
                WinogradWeightGradientOf(px, pdy, pdw, batch);
            }

            // Sum the threads' transposed weight gradients (and bias gradients) into the layer's.
            var weights = TShape.Groups * PatchLength * PaddedGroupOut;
            for (var part = 0; part < parts; part++)
            {
                var dWeightT = ps + (part * stride) + WeightGradientOffset;
                if (WeightGradientByRows && !winogradWeights)
                {
                    TensorPrimitives.Add(dWeight.Slice(0, TShape.OutChannels * PatchLength), new ReadOnlySpan<float>(dWeightT, TShape.OutChannels * PatchLength), dWeight);
                }

                for (var g = 0; g < TShape.Groups && !winogradWeights && !WeightGradientByRows; g++)
                {
                    var dwT = dWeightT + (g * PatchLength * PaddedGroupOut);
                    var dw = pdw + (g * GroupOut * PatchLength);
                    for (var o = 0; o < GroupOut; o++)
                    {
                        for (var q = 0; q < PatchLength; q++)
                        {
                            dw[(o * PatchLength) + q] += dwT[(q * PaddedGroupOut) + o];
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
        /// <summary>The weights flipped and transposed for the implicit input gradient: per group, [GroupIn × GroupOut·K·K].</summary>
        public readonly float[] Flipped = ImplicitInputGradient ? new float[TShape.OutChannels * PatchLength] : [];
        public float* FlippedData;

        /// <summary>The broadcast input gradient's packed weights and each part's stage (see Conv2DBackward.Broadcast.cs).</summary>
        public float* PackedGradient;
        public readonly nint[] Stages = new nint[WorkerPool.Workers];
        public float* X;
        public float* W;
        public float* Dy;
        public float* Dx;
        public float* Scratch;
        public int ScratchStride;
        public int Batch;

        /// <summary>Whether this pass computes the weight gradient (not when the Winograd path does).</summary>
        public bool WeightGradient;

        public void Execute(int part, int parts)
        {
            var cols = Scratch + (part * ScratchStride);
            var dcols = cols + (PatchLength * OutSpatial);
            var dWeightT = cols + WeightGradientOffset;
            var dOutT = dWeightT - (OutSpatial * PaddedGroupOut);
            var weights = TShape.Groups * PatchLength * PaddedGroupOut;
            var dBiasPart = dWeightT + weights;
            var bordered = dBiasPart + TShape.OutChannels;
            var borderedGradient = bordered + PaddedInputLength;

            // The weight gradient is accumulated transposed, dWᵀ[patch, out] += cols · dyᵀ, so that the
            // product is vectorized along the output channels instead of along a short spatial axis. The
            // transposed output gradient's padding columns stay zero (Transpose writes only real channels).
            // Without the weight gradient (the Winograd path computes it) only the bias gradient after them is cleared.
            if (WeightGradient)
            {
                if (!WeightGradientByRows)
                {
                    new Span<float>(dOutT, OutSpatial * PaddedGroupOut).Clear();
                }

                new Span<float>(dWeightT, weights).Clear();
            }

            new Span<float>(dBiasPart, TShape.OutChannels).Clear();
            var (from, to) = (Batch * part / parts, Batch * (part + 1) / parts);
            for (var n = from; n < to; n++)
            {
                for (var g = 0; g < TShape.Groups; g++)
                {
                    var input = X + (n * TShape.InChannels * InSpatial) + (g * GroupIn * InSpatial);
                    var dOut = Dy + (n * TShape.OutChannels * OutSpatial) + (g * GroupOut * OutSpatial);
                    var w = W + (g * GroupOut * PatchLength);
                    if (WeightGradient)
                    {
                        // 1×1 stride 1: the "columns" are the input itself.
                        var patches = Direct ? input : cols;
                        if (!Direct)
                        {
                            Im2Col(input, cols, OutSpatial, bordered, tail: 0, room: OutSpatial);
                        }

                        if (WeightGradientByRows)
                        {
                            Gemm.MultiplyNT(GroupOut, PatchLength, OutSpatial, dOut, OutSpatial, patches, OutSpatial, dWeightT + (g * GroupOut * PatchLength), PatchLength, accumulate: true);
                        }
                        else
                        {
                            Transpose.Matrix(dOut, GroupOut, OutSpatial, OutSpatial, dOutT, PaddedGroupOut);
                            Gemm.MultiplyNN(PatchLength, PaddedGroupOut, OutSpatial, patches, OutSpatial, dOutT, PaddedGroupOut, dWeightT + (g * PatchLength * PaddedGroupOut), PaddedGroupOut, accumulate: true);
                        }
                    }

                    if (Dx == null)
                    {
                        continue;
                    }

                    var dInput = Dx + (n * TShape.InChannels * InSpatial) + (g * GroupIn * InSpatial);
                    if (Direct)
                    {
                        Gemm.MultiplyTN(GroupIn, OutSpatial, GroupOut, w, PatchLength, dOut, OutSpatial, dInput, InSpatial, accumulate: true);
                    }
                    else if (BroadcastInputGradient)
                    {
                        BroadcastGradient(PackedGradient, dOut, dInput, (float*)Stages[part]);
                    }
                    else if (ImplicitInputGradient)
                    {
                        InputGradient(FlippedData + (g * GroupIn * GroupOut * TShape.Kernel * TShape.Kernel), dOut, dInput, product: dcols, borderedGradient);
                    }
                    else
                    {
                        Gemm.MultiplyTN(PatchLength, OutSpatial, GroupOut, w, PatchLength, dOut, OutSpatial, dcols, OutSpatial, accumulate: false);
                        Col2ImAdd(dcols, dInput, bordered);
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

    /// <summary>
    /// The implicit input gradient of one group (see <see cref="ImplicitInputGradient"/>): border the output gradient,
    /// multiply the flipped weights by its shifted rows, add each input row's real columns onto <paramref name="dInput"/>.
    /// </summary>
    private static void InputGradient(float* flipped, float* dOut, float* dInput, float* product, float* borderedGradient)
    {
        int h = TShape.InHeight, wd = TShape.InWidth, bw = GradientBorderedWidth, taps = GroupOut * TShape.Kernel * TShape.Kernel;
        Border(dOut, GroupOut, TShape.OutHeight, TShape.OutWidth, GradientBorder, borderedGradient, borderedGradient + BorderedGradientLength);
        fixed (int* offsets = GradientTapOffsets)
        {
            Gemm.MultiplyNNIndexed(GroupIn, InputGradientColumns, taps, flipped, taps, borderedGradient, offsets, product, InputGradientColumns, accumulate: false);
        }

        for (var c = 0; c < GroupIn; c++)
        {
            for (var y = 0; y < h; y++)
            {
                var row = product + (c * InputGradientColumns) + (y * bw);
                var target = dInput + (((c * h) + y) * wd);
                if (c < GroupIn - 1 || y < h - 1)
                {
                    // Within this sample and group, which only this thread writes: the vector add may write back past the row.
                    AddRun(row, target, wd);
                }
                else
                {
                    var run = new Span<float>(target, wd);
                    TensorPrimitives.Add(run, new ReadOnlySpan<float>(row, wd), run);
                }
            }
        }
    }

    /// <summary>Fills <paramref name="flipped"/> with each group's weights as [ci][co, K−1−kh, K−1−kw] (see <see cref="ImplicitInputGradient"/>).</summary>
    private static void Flip(float* weight, float[] flipped)
    {
        var k = TShape.Kernel;
        var taps = GroupOut * k * k;
        for (var g = 0; g < TShape.Groups; g++)
        {
            for (var ci = 0; ci < GroupIn; ci++)
            {
                for (var co = 0; co < GroupOut; co++)
                {
                    var source = weight + (((g * GroupOut) + co) * PatchLength) + (ci * k * k);
                    var target = (((g * GroupIn) + ci) * taps) + (co * k * k);
                    for (var t = 0; t < k * k; t++)
                    {
                        flipped[target + t] = source[(k * k) - 1 - t];
                    }
                }
            }
        }
    }

    /// <summary>
    /// The adjoint of <c>Im2Col</c>: adds each column entry back onto the input position it was copied from. The entries
    /// are added into the zero-bordered gradient <paramref name="bordered"/> first (no edge tests), whose interior is
    /// then added onto <paramref name="dInput"/>. Only strided layers off the broadcast path (grouped, or without
    /// AVX-512) and stride-1 ones padded by K or more come here; the others take <see cref="InputGradient"/> or
    /// <see cref="BroadcastGradient"/>.
    /// </summary>
    private static void Col2ImAdd(float* cols, float* dInput, float* bordered)
    {
        int k = TShape.Kernel, s = TShape.Stride, pad = TShape.Padding, h = TShape.InHeight, wd = TShape.InWidth;
        int oh = TShape.OutHeight, ow = TShape.OutWidth, bh = BorderedHeight, bw = BorderedWidth;
        var row = cols;
        new Span<float>(bordered, PaddedInputLength).Clear();
        for (var c = 0; c < GroupIn; c++)
        {
            for (var kh = 0; kh < k; kh++)
            {
                for (var kw = 0; kw < k; kw++)
                {
                    var dst = bordered + (((c * bh) + kh) * bw) + kw;
                    for (var y = 0; y < oh; y++)
                    {
                        var from = row + (y * ow);
                        var to = dst + (y * s * bw);
                        for (var x = 0; x < ow; x++)
                        {
                            to[x * s] += from[x];
                        }
                    }

                    row += oh * ow;
                }
            }
        }

        for (var c = 0; c < GroupIn; c++)
        {
            for (var y = 0; y < h; y++)
            {
                var target = new Span<float>(dInput + (((c * h) + y) * wd), wd);
                TensorPrimitives.Add(target, new ReadOnlySpan<float>(bordered + (((c * bh) + y + pad) * bw) + pad, wd), target);
            }
        }
    }

    /// <summary>
    /// <c>dst[i] += src[i]</c> for <paramref name="count"/> floats in whole 256-bit vectors: the last vector keeps the
    /// lanes past the run as they were, so it reads up to 7 floats past both runs and writes those of dst back unchanged.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRun(float* src, float* dst, int count)
    {
        var i = 0;
        for (; i + 8 <= count; i += 8)
        {
            Vector256.Store(Vector256.Load(dst + i) + Vector256.Load(src + i), dst + i);
        }

        if (i < count)
        {
            var keep = Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(count - i)).AsSingle();
            var d = Vector256.Load(dst + i);
            Vector256.Store(Vector256.ConditionalSelect(keep, d + Vector256.Load(src + i), d), dst + i);
        }
    }
}
