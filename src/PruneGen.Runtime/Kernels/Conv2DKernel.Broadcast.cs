using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PruneGen.Kernels;

/// <summary>
/// The broadcast path, for strided convolutions: 16 output channels of a run of up to 14 output positions are 14 vectors
/// in registers, and each tap adds one input value, broadcast, times the 16 channels' weights of that tap
/// (<c>acc[p] += x[p·stride + tap] · w[tap][16]</c>). There is no unfolded copy of the input and no product to read
/// back: through im2col, a stride-2 layer spent about a third of its time gathering every other input column and
/// storing its product (tiny ResNet's 16→32 @28² at batch 64, one thread: 1 620–1 740 µs, 1 160 of them the product;
/// 1 155–1 200 µs this way).
/// </summary>
/// <remarks>
/// <para>
/// Each sample of a padded layer is bordered first (no edge tests), as on the other paths. A run covers whole output rows where a row has
/// at most 14 positions (two rows of 7, one of 14) and an equal share of a wider row otherwise (two runs of 14 at 28); a
/// last run that would pass the plane's edge starts earlier instead and computes some positions twice, so every read
/// lies inside the bordered planes. Results go, with the fused scale and shift (and ReLU without a residual) applied, to
/// a stage of 16 floats per output position, which is transposed into the output planes; a residual is added over each
/// plane after that. The weights are repacked on every call into tap-major blocks of 16 output channels (zero lanes past
/// the last channel), a transpose of the weights.
/// </para>
/// <para>
/// Stride-1 layers keep their paths: measured one thread, batch 64 (`convs`), the broadcast path lost on LeNet-5's
/// 1→6 5×5 (201–204 → 552–553 µs: 6 of 16 lanes) and was within noise on VggNet's 1→32 and the tiny ResNet's 1→16 first
/// layers. Strided layers with few output channels still gain (16→6 @28² 677–712 → 655–687 µs, 32→7 @14² 587–697 →
/// 358–425).
/// </para>
/// </remarks>
public static unsafe partial class Conv2DKernel<TShape>
{
    /// <summary>Whether this layer takes the broadcast path: strided and ungrouped, on AVX-512.</summary>
    internal static bool BroadcastShape => TShape.Stride > 1 && TShape.Groups == 1 && Simd.Level == SimdLevel.Vector512 && Avx512F.IsSupported;

    /// <summary>Blocks of 16 output channels (the last one padded with zero weights).</summary>
    private static int ChannelBlocks => (TShape.OutChannels + 15) / 16;

    /// <summary>Output positions per row of a run: the whole row up to 14, else an equal share of it (14 of 28, 12 of 24).</summary>
    private static readonly int RunWidth = TShape.OutWidth <= 14 ? TShape.OutWidth : (TShape.OutWidth + ((TShape.OutWidth + 13) / 14) - 1) / ((TShape.OutWidth + 13) / 14);

    /// <summary>Output rows per run: as many whole rows as fit in 14 positions (2 of 7), else 1.</summary>
    private static readonly int RunRows = Math.Min(TShape.OutHeight, Math.Max(1, 14 / RunWidth));

    /// <summary>Output positions per run (at most 14: the accumulators, the weights and the broadcast fill 16 of 32 registers).</summary>
    private static readonly int RunPositions = RunWidth * RunRows;

    /// <summary>Runs down and across one output plane.</summary>
    private static int RunRowGroups => (TShape.OutHeight + RunRows - 1) / RunRows;

    private static int RunColumns => (TShape.OutWidth + RunWidth - 1) / RunWidth;

    [ThreadStatic]
    private static float[]? t_packed;

    /// <summary>
    /// Before the parts run: the weights packed tap-major per block of 16 output channels, the fused scale and shift padded to
    /// whole blocks, each part's stage, and (for one sample split across the threads) the bordered input they share.
    /// </summary>
    private static void BroadcastPrepare(ForwardWork work, int parts, bool split)
    {
        var packed = t_packed ??= GC.AllocateArray<float>(ChannelBlocks * 16 * PatchLength, pinned: true);
        work.Packed = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(packed));
        for (var b = 0; b < ChannelBlocks; b++)
        {
            // Lanes past the last channel are never written, so they keep the zeros the array was created with.
            var channels = Math.Min(16, TShape.OutChannels - (16 * b));
            Transpose.Matrix(work.W + (16 * b * PatchLength), channels, PatchLength, PatchLength, work.Packed + (16 * b * PatchLength), 16);
        }

        work.Scale.CopyTo(work.BlockScale, 0);
        work.Shift.CopyTo(work.BlockShift, 0);
        for (var p = 0; p < parts; p++)
        {
            work.PartSpaces[p] = (nint)WinogradWorkspace.Rent(p, 16 * OutSpatial);
        }

        if (split && TShape.Padding > 0)
        {
            var bordered = work.Scratch + ProductRegion;
            Border(work.X, bordered, bordered + PaddedInputLength);
        }
    }

    /// <summary>
    /// Where sample <paramref name="n"/>'s runs read: an unpadded layer's input as it is (every tap of every output lies
    /// inside it, and the bordered layout is the input's), else its copy in <paramref name="bordered"/>, made here when
    /// <paramref name="copy"/> is set. Copying the whole input cost a 1×1 stride-2 layer, which reads a quarter of it,
    /// about as much as its products.
    /// </summary>
    private static float* BroadcastInput(ForwardWork work, int n, float* bordered, bool copy)
    {
        var input = work.X + (n * TShape.InChannels * InSpatial);
        if (TShape.Padding == 0)
        {
            return input;
        }

        if (copy)
        {
            Border(input, bordered, bordered + PaddedInputLength);
        }

        return bordered;
    }

    /// <summary>
    /// Part <paramref name="part"/> of <paramref name="parts"/>: its samples, or for one sample split across the threads its
    /// blocks of output channels (where there are enough of them) or its bands of runs.
    /// </summary>
    private static void BroadcastPart(ForwardWork work, int part, int parts)
    {
        var stage = (float*)work.PartSpaces[part];
        if (work.SplitRows)
        {
            var bordered = BroadcastInput(work, 0, work.Scratch + ProductRegion, copy: false);
            if (ChannelBlocks >= parts)
            {
                BroadcastSample(work, 0, bordered, stage, ChannelBlocks * part / parts, ChannelBlocks * (part + 1) / parts, 0, RunRowGroups);
            }
            else
            {
                BroadcastSample(work, 0, bordered, stage, 0, ChannelBlocks, RunRowGroups * part / parts, RunRowGroups * (part + 1) / parts);
            }

            return;
        }

        var own = work.Scratch + (part * work.ScratchStride) + ProductRegion;
        for (var n = work.Batch * part / parts; n < work.Batch * (part + 1) / parts; n++)
        {
            BroadcastSample(work, n, BroadcastInput(work, n, own, copy: true), stage, 0, ChannelBlocks, 0, RunRowGroups);
        }
    }

    /// <summary>
    /// Blocks <paramref name="firstBlock"/> to <paramref name="endBlock"/> − 1 of output channels of sample <paramref name="n"/>,
    /// output rows of row groups <paramref name="firstGroup"/> to <paramref name="endGroup"/> − 1, from the sample's bordered input.
    /// </summary>
    private static void BroadcastSample(ForwardWork work, int n, float* bordered, float* stage, int firstBlock, int endBlock, int firstGroup, int endGroup)
    {
        int s = TShape.Stride, bw = BorderedWidth, ow = TShape.OutWidth;
        int top = firstGroup * RunRows, bottom = Math.Min(endGroup * RunRows, TShape.OutHeight);
        if (top >= bottom)
        {
            return;
        }

        var relu = work.Relu && work.Residual == null;
        fixed (int* taps = TapOffsets)
        fixed (float* blockScale = work.BlockScale, blockShift = work.BlockShift)
        {
            for (var b = firstBlock; b < endBlock; b++)
            {
                var weights = work.Packed + (16 * b * PatchLength);
                Vector512<float> scale = Vector512.Load(blockScale + (16 * b)), shift = Vector512.Load(blockShift + (16 * b));
                for (var g = firstGroup; g < endGroup; g++)
                {
                    var row = Math.Min(g * RunRows, TShape.OutHeight - RunRows);
                    for (var j = 0; j < RunColumns; j++)
                    {
                        var column = Math.Min(j * RunWidth, ow - RunWidth);
                        Run<ForwardRun, Vector512<float>, Lanes16>(bordered + (row * s * bw) + (column * s), weights, taps, PatchLength, stage + (((row * ow) + column) * 16), scale, shift, relu, skip: -1);
                    }
                }

                // The stage's rows (output positions) become the output planes' columns; a residual is added plane by plane.
                var channels = Math.Min(16, TShape.OutChannels - (16 * b));
                var first = ((n * TShape.OutChannels) + (16 * b)) * OutSpatial;
                Transpose.Matrix(stage + (top * ow * 16), (bottom - top) * ow, channels, 16, work.Y + first + (top * ow), OutSpatial);
                if (work.Residual != null)
                {
                    for (var c = 0; c < channels; c++)
                    {
                        var plane = first + (c * OutSpatial) + (top * ow);
                        Epilogue.Channel(work.Y + plane, work.Y + plane, work.Residual + plane, (bottom - top) * ow, 1f, 0f, work.Relu);
                    }
                }
            }
        }
    }

    /// <summary>
    /// One run: <see cref="RunPositions"/> positions of 16 channels (8 in F(4×4)'s 256-bit runs: <c>TL.Count</c>), <c>acc[p] = Σ_t x[origin + taps[t] + Source(p)] ·
    /// w[t]</c> over <paramref name="count"/> taps, then stored at <c>target + Target(p)</c>: the forward's
    /// <c>acc·scale + shift</c> (and ReLU) into its stage when <paramref name="skip"/> is negative, else added to what is
    /// there for every position from <paramref name="skip"/> on (the input gradient's scatter, where the positions before
    /// it belong to the previous run). The positions' offsets are constants of the shape, and the unused accumulators of
    /// a shorter run are dropped when it is compiled.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Run<TRun, TV, TL>(float* origin, float* weights, int* taps, int count, float* target, TV scale, TV shift, bool relu, int skip)
        where TRun : IRunOffsets
        where TV : unmanaged
        where TL : ILanes<TV>
    {
        int p = TRun.Positions;
        TV a0 = TL.Zero, a1 = TL.Zero, a2 = TL.Zero, a3 = TL.Zero, a4 = TL.Zero, a5 = TL.Zero, a6 = TL.Zero;
        TV a7 = TL.Zero, a8 = TL.Zero, a9 = TL.Zero, a10 = TL.Zero, a11 = TL.Zero, a12 = TL.Zero, a13 = TL.Zero;
        for (var t = 0; t < count; t++)
        {
            var x = origin + taps[t];
            var w = TL.Load(weights + (TL.Count * t));
            a0 = TL.MultiplyAddBroadcast(x + TRun.Source(0), w, a0);
            if (p > 1)
            {
                a1 = TL.MultiplyAddBroadcast(x + TRun.Source(1), w, a1);
            }

            if (p > 2)
            {
                a2 = TL.MultiplyAddBroadcast(x + TRun.Source(2), w, a2);
            }

            if (p > 3)
            {
                a3 = TL.MultiplyAddBroadcast(x + TRun.Source(3), w, a3);
            }

            if (p > 4)
            {
                a4 = TL.MultiplyAddBroadcast(x + TRun.Source(4), w, a4);
            }

            if (p > 5)
            {
                a5 = TL.MultiplyAddBroadcast(x + TRun.Source(5), w, a5);
            }

            if (p > 6)
            {
                a6 = TL.MultiplyAddBroadcast(x + TRun.Source(6), w, a6);
            }

            if (p > 7)
            {
                a7 = TL.MultiplyAddBroadcast(x + TRun.Source(7), w, a7);
            }

            if (p > 8)
            {
                a8 = TL.MultiplyAddBroadcast(x + TRun.Source(8), w, a8);
            }

            if (p > 9)
            {
                a9 = TL.MultiplyAddBroadcast(x + TRun.Source(9), w, a9);
            }

            if (p > 10)
            {
                a10 = TL.MultiplyAddBroadcast(x + TRun.Source(10), w, a10);
            }

            if (p > 11)
            {
                a11 = TL.MultiplyAddBroadcast(x + TRun.Source(11), w, a11);
            }

            if (p > 12)
            {
                a12 = TL.MultiplyAddBroadcast(x + TRun.Source(12), w, a12);
            }

            if (p > 13)
            {
                a13 = TL.MultiplyAddBroadcast(x + TRun.Source(13), w, a13);
            }
        }

        Put<TRun, TV, TL>(a0, target, 0, scale, shift, relu, skip);
        if (p > 1)
        {
            Put<TRun, TV, TL>(a1, target, 1, scale, shift, relu, skip);
        }

        if (p > 2)
        {
            Put<TRun, TV, TL>(a2, target, 2, scale, shift, relu, skip);
        }

        if (p > 3)
        {
            Put<TRun, TV, TL>(a3, target, 3, scale, shift, relu, skip);
        }

        if (p > 4)
        {
            Put<TRun, TV, TL>(a4, target, 4, scale, shift, relu, skip);
        }

        if (p > 5)
        {
            Put<TRun, TV, TL>(a5, target, 5, scale, shift, relu, skip);
        }

        if (p > 6)
        {
            Put<TRun, TV, TL>(a6, target, 6, scale, shift, relu, skip);
        }

        if (p > 7)
        {
            Put<TRun, TV, TL>(a7, target, 7, scale, shift, relu, skip);
        }

        if (p > 8)
        {
            Put<TRun, TV, TL>(a8, target, 8, scale, shift, relu, skip);
        }

        if (p > 9)
        {
            Put<TRun, TV, TL>(a9, target, 9, scale, shift, relu, skip);
        }

        if (p > 10)
        {
            Put<TRun, TV, TL>(a10, target, 10, scale, shift, relu, skip);
        }

        if (p > 11)
        {
            Put<TRun, TV, TL>(a11, target, 11, scale, shift, relu, skip);
        }

        if (p > 12)
        {
            Put<TRun, TV, TL>(a12, target, 12, scale, shift, relu, skip);
        }

        if (p > 13)
        {
            Put<TRun, TV, TL>(a13, target, 13, scale, shift, relu, skip);
        }
    }

    /// <summary>Offset of position <paramref name="p"/> of a run from the run's first position, in the bordered input.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int At(int p) => ((p / RunWidth) * TShape.Stride * BorderedWidth) + ((p % RunWidth) * TShape.Stride);

    /// <summary>Position <paramref name="p"/> of a run into its target (see <see cref="Run{TRun, TV, TL}"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put<TRun, TV, TL>(TV acc, float* target, int p, TV scale, TV shift, bool relu, int skip)
        where TRun : IRunOffsets
        where TV : unmanaged
        where TL : ILanes<TV>
    {
        var at = target + TRun.Target(p);
        if (skip >= 0)
        {
            if (p >= skip)
            {
                TL.Store(TL.Add(TL.Load(at), acc), at);
            }

            return;
        }

        var value = TL.MultiplyAdd(acc, scale, shift);
        if (relu)
        {
            value = TL.Max(value, TL.Zero);
        }

        TL.Store(value, at);
    }

    /// <summary>Where position p of a run reads its input and puts its result, from the run's first position.</summary>
    private interface IRunOffsets
    {
        /// <summary>Positions per run (at most 14).</summary>
        static abstract int Positions { get; }

        /// <summary>Offset of position <paramref name="p"/> in what the taps read.</summary>
        static abstract int Source(int p);

        /// <summary>Offset of position <paramref name="p"/>'s vector (16 or 8 floats) in the target.</summary>
        static abstract int Target(int p);
    }

    /// <summary>The forward run: reads the bordered input at the stride, writes the stage (16 floats per output position).</summary>
    private readonly struct ForwardRun : IRunOffsets
    {
        public static int Positions => RunPositions;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Source(int p) => At(p);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Target(int p) => (((p / RunWidth) * TShape.OutWidth) + (p % RunWidth)) * 16;
    }

    /// <summary>The input gradient's run: reads the output gradient's positions, adds into the bordered gradient at the stride.</summary>
    private readonly struct GradientRun : IRunOffsets
    {
        public static int Positions => RunPositions;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Source(int p) => ((p / RunWidth) * TShape.OutWidth) + (p % RunWidth);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Target(int p) => At(p) * 16;
    }
}
