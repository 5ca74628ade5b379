using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using PruneGen.Model;

namespace PruneGen.Kernels;

/// <summary>
/// Convolution forward. x is (batch, Cin, H, W), weight is (Cout, Cin/groups, K, K), y is
/// (batch, Cout, OH, OW). Per sample and group: <c>y_g = W_g · im2col(x_g)</c>, a (Cout/g × Cin/g·K·K)
/// by (Cin/g·K·K × OH·OW) product; a 1×1 stride-1 unpadded convolution multiplies x directly.
/// </summary>
/// <remarks>
/// <para>
/// Every other layer first copies the group's input into a buffer with a zero border of the padding's width, so no
/// tap needs an edge test. A stride-1 layer then multiplies one sample without unfolding it at all
/// (<see cref="Implicit"/>): row (c, kh, kw) of the unfolded input is the bordered input shifted by that tap, so the
/// product reads its rows through a table of offsets (<see cref="Gemm.MultiplyNNIndexed"/>) and computes the output
/// rows at the bordered width, dropping the extra columns when it stores them. Otherwise (strided layers, and several
/// samples at once) im2col unfolds the input, one vector copy per output row.
/// </para>
/// <para>
/// The columns of a product are padded to a multiple of <see cref="LayerNode.Im2ColRowAlignment"/> (zeros), so it runs
/// on whole vectors only. Where one sample's output fills those vectors poorly (7×7: 49 of 64 lanes), one product
/// covers several samples side by side (<see cref="Samples"/>; 4 at 7×7, 196 of 208 lanes).
/// </para>
/// <para>
/// The store is fused: bias, a following BatchNorm (folded into a per-channel scale and shift), a residual
/// addition and ReLU are applied to each channel plane right after the product, while it is in cache, so
/// inference makes one pass over the output instead of four.
/// </para>
/// <para>
/// Work is split across <see cref="WorkerPool"/> threads by samples; one sample of a Winograd layer by bands of tile
/// rows, one sample of another stride-1 layer of at least <see cref="SplitMacs"/> (<see cref="SpinningSplitMacs"/>
/// while the workers spin) by output channels, and one sample of such a strided layer by output rows. That pays only
/// because a generated forward pass keeps the workers spinning between its layers (<see cref="WorkerPool.Burst"/>):
/// waking a sleeping worker costs about as much as half a batch-1 layer (docs/BENCHMARKS.md).
/// </para>
/// </remarks>
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

    /// <summary>Samples whose columns one product covers side by side (see <see cref="LayerNode.SamplesPerProduct"/>).</summary>
    private static readonly int Samples = Direct ? 1 : LayerNode.SamplesPerProduct(OutSpatial);

    /// <summary>Columns of one im2col row: the output positions of <see cref="Samples"/> samples, rounded up to whole vectors.</summary>
    private static int Columns => LayerNode.AlignColumns(Samples * OutSpatial);

    /// <summary>Whether the product lands in a scratch block first (the epilogue copies each sample's columns out).</summary>
    private static bool Padded => !Direct && Columns != OutSpatial;

    /// <summary>
    /// Floats of scratch one thread needs (matches <see cref="LayerNode.Im2ColLength"/>): the columns, one group's product
    /// if it does not fit the output as it is, and the zero-bordered input.
    /// </summary>
    public static int ScratchLength => Direct ? 0 : ProductRegion + PaddedInputLength;

    /// <summary>Floats before the bordered input: the columns and product of im2col, or the product of the implicit path.</summary>
    private static int ProductRegion => Math.Max((PatchLength * Columns) + (Padded ? GroupOut * Columns : 0), Implicit ? GroupOut * ImplicitColumns : 0);

    /// <summary>
    /// Whether one sample is multiplied straight from its bordered input (<see cref="Gemm.MultiplyNNIndexed"/>) instead of
    /// through im2col: at stride 1, row (c, kh, kw) of the unfolded input is the bordered input shifted by
    /// <c>(c·BH + kh)·BW + kw</c>, if the product's columns are the output rows at the bordered width BW. That computes
    /// BW − OW dropped columns per output row (2 of 16 at 14×14, 2 of 9 at 7×7) and saves the copy, which cost
    /// 15–25 % of a 3×3 layer. Several samples side by side (<see cref="Samples"/>) still go through im2col.
    /// </summary>
    private static bool Implicit => TShape.Stride == 1 && !Direct;

    /// <summary>Columns of the implicit product: the output rows at the bordered width, rounded up to whole vectors.</summary>
    private static int ImplicitColumns => LayerNode.AlignColumns(TShape.OutHeight * BorderedWidth);

    /// <summary>Offset of row (c, kh, kw) of the unfolded input in the bordered input (the implicit path's row table).</summary>
    private static readonly int[] TapOffsets = CreateTapOffsets();

    private static int[] CreateTapOffsets()
    {
        var offsets = new int[PatchLength];
        for (var c = 0; c < GroupIn; c++)
        {
            for (var kh = 0; kh < TShape.Kernel; kh++)
            {
                for (var kw = 0; kw < TShape.Kernel; kw++)
                {
                    offsets[(((c * TShape.Kernel) + kh) * TShape.Kernel) + kw] = (((c * BorderedHeight) + kh) * BorderedWidth) + kw;
                }
            }
        }

        return offsets;
    }

    /// <summary>Rows and columns of one input plane with its zero border.</summary>
    private static int BorderedHeight => TShape.InHeight + (2 * TShape.Padding);

    private static int BorderedWidth => TShape.InWidth + (2 * TShape.Padding);

    /// <summary>
    /// Floats of the zero-bordered input of one group (matches <see cref="LayerNode.PaddedInputLength"/>), with slack for
    /// the implicit product's last vectors, which read up to Kernel + 14 floats past the last plane.
    /// </summary>
    private static int PaddedInputLength => Direct ? 0 : (GroupIn * BorderedHeight * BorderedWidth) + LayerNode.Im2ColRowAlignment + TShape.Kernel;

    [ThreadStatic]
    private static ForwardWork? t_forward;

    /// <summary>
    /// Computes the layer (with its bias) for <paramref name="batch"/> samples. <paramref name="scratch"/> is
    /// divided evenly between the threads and must hold <see cref="ScratchLength"/> floats per thread.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, int batch, Span<float> scratch) =>
        ForwardFused(x, weight, bias, default, ReadOnlySpan<float>.Empty, y, batch, scratch, relu: false);

    /// <summary>
    /// Computes <c>y = act(BN(conv(x) + bias) + residual)</c> in one pass at inference: <paramref name="norm"/> is the
    /// following BatchNorm (or <c>default</c>), <paramref name="residual"/> a tensor of y's shape added before the
    /// activation (or empty), <paramref name="relu"/> whether a ReLU follows.
    /// </summary>
    public static void ForwardFused(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, BatchNormParameters norm, ReadOnlySpan<float> residual, Span<float> y, int batch, Span<float> scratch, bool relu)
    {
        var parts = Math.Min(batch, WorkerPool.Workers);
        if (ScratchLength > 0 && scratch.Length / parts < ScratchLength)
        {
            throw new ArgumentException($"Convolution scratch holds {scratch.Length} floats; {parts} threads need {ScratchLength} each.", nameof(scratch));
        }

        var work = t_forward ??= new ForwardWork();
        norm.Fold(bias, work.Scale, work.Shift);

        // Winograd where it pays: several samples, or one sample of at least 4×4 tiles. F(4×4) where its lanes fill well
        // enough (Conv2DKernel.Winograd4.cs), one sample on several threads split by blocks of output channels or, for a
        // single block, by bands of tile rows; otherwise F(2×2) (Conv2DKernel.Winograd.cs), one sample split by bands of
        // tile rows (7×7 tiles or more) or by output channels.
        var winograd = WinogradShape && (batch > 1 || WinogradForwardSingleSample);
        var split4 = winograd && batch == 1 && WorkerPool.Workers > 1 && Winograd4Pays && (OutBlocks4 >= 2 || Tile4Rows >= WorkerPool.Workers);
        var splitTiles = winograd && !split4 && Winograd2Available && batch == 1 && WorkerPool.Workers > 1 && WinogradSingleSample;
        var winogradChannels = winograd && !split4 && Winograd2Available && batch == 1 && WorkerPool.Workers > 1 && !WinogradSingleSample;

        // One sample of another large stride-1 layer: the threads split its output channels (one bordered input, each
        // thread's product in its own scratch). The threshold is lower while the workers spin in a forward pass's burst.
        var large = (long)OutSpatial * TShape.OutChannels * PatchLength >= (WorkerPool.Spinning ? SpinningSplitMacs : SplitMacs);
        var broadcast = BroadcastShape;
        var split = winogradChannels || (!winograd && !broadcast && batch == 1 && Implicit && TShape.Groups == 1 && WorkerPool.Workers > 1 && large && scratch.Length / WorkerPool.Workers >= ScratchLength);

        // One sample of a large strided layer: the threads split its output rows, each unfolding and multiplying its own
        // (on the broadcast path, its blocks of output channels or bands of rows from one bordered input).
        var splitRows = broadcast
            ? batch == 1 && WorkerPool.Workers > 1 && large
            : batch == 1 && !Implicit && !Direct && Padded && TShape.Groups == 1 && WorkerPool.Workers > 1 && TShape.OutHeight >= 2 * WorkerPool.Workers && large && scratch.Length / WorkerPool.Workers >= ScratchLength;
        if (split || splitTiles || splitRows || split4)
        {
            parts = WorkerPool.Workers;
        }

        fixed (float* px = x, pw = weight, py = y, pr = residual, cols = scratch, scale = work.Scale, shift = work.Shift)
        {
            work.X = px;
            work.W = pw;
            work.Y = py;
            work.Residual = residual.IsEmpty ? null : pr;
            work.ScaleData = scale;
            work.ShiftData = shift;
            work.Relu = relu;
            work.Scratch = cols;
            work.ScratchStride = ScratchLength == 0 ? 0 : scratch.Length / parts;
            work.Batch = batch;
            work.SplitChannels = split;
            work.SplitTiles = splitTiles;
            work.SplitRows = splitRows;
            work.Winograd = winograd;
            work.Broadcast = broadcast;
            work.Accumulate = false;
            work.Winograd4 = winograd && !splitTiles && !winogradChannels && Winograd4Pays;
            if (winograd)
            {
                WinogradPrepare(work, parts);
            }
            else if (broadcast)
            {
                BroadcastPrepare(work, parts, splitRows);
            }
            else if (split)
            {
                Border(px, cols + ProductRegion, cols + ProductRegion + PaddedInputLength);
            }

            WorkerPool.Run(work, parts);
        }
    }

    /// <summary>Multiply-adds above which one sample's output channels are split across the threads.</summary>
    private const long SplitMacs = 1_000_000;

    /// <summary>
    /// The same while the workers spin in a forward pass's burst (<see cref="WorkerPool.Spinning"/>), where a part costs
    /// them no wake-up to take. Two threads, batch 1, µs unsplit / split: VggNet's 1→32 @28² (0.23 M
    /// multiply-adds, channels split) 9.5 / 5.8; tiny ResNet's stride-2 16→32 and 32→64 (0.9 M each, rows split) 24.4 /
    /// 16.1 and 28.0 / 19.3.
    /// </summary>
    private const long SpinningSplitMacs = 128 * 1024;

    /// <summary>
    /// Group <paramref name="g"/> of samples <paramref name="n"/> to <paramref name="n"/> + <paramref name="count"/> − 1: the
    /// product from their unfolded inputs <paramref name="cols"/>, side by side (or from the input itself for a direct
    /// convolution), then the fused store of each sample.
    /// </summary>
    private static void Group(ForwardWork work, int n, int count, int g, float* cols, float* product)
    {
        var first = g * GroupOut;
        var output = work.Y + (((n * TShape.OutChannels) + first) * OutSpatial);
        var w = work.W + (first * PatchLength);
        var target = Padded ? product : output;
        var stride = Padded ? Columns : OutSpatial;
        if (Direct)
        {
            var input = work.X + (((n * TShape.InChannels) + (g * GroupIn)) * InSpatial);
            Gemm.MultiplyNN(GroupOut, OutSpatial, GroupIn, w, PatchLength, input, InSpatial, target, stride, accumulate: false);
        }
        else
        {
            Gemm.MultiplyNN(GroupOut, LayerNode.AlignColumns(count * OutSpatial), PatchLength, w, PatchLength, cols, Columns, target, stride, accumulate: false);
        }

        for (var s = 0; s < count; s++)
        {
            var sample = ((n + s) * TShape.OutChannels) + first;
            var residual = work.Residual == null ? null : work.Residual + (sample * OutSpatial);
            for (var r = 0; r < GroupOut; r++)
            {
                var c = first + r;
                Epilogue.Channel(target + (r * stride) + (s * OutSpatial), work.Y + ((sample + r) * OutSpatial), residual == null ? null : residual + (r * OutSpatial), OutSpatial, work.ScaleData[c], work.ShiftData[c], work.Relu);
            }
        }
    }

    /// <summary>
    /// Output rows <paramref name="firstRow"/> to <paramref name="endRow"/> − 1 of the one sample of an ungrouped layer
    /// unfolded and multiplied on their own (one part of a split by rows): their columns, every output channel's product,
    /// the fused store of their positions.
    /// </summary>
    private static void OutputRows(ForwardWork work, int firstRow, int endRow, float* cols, float* product, float* bordered)
    {
        var count = (endRow - firstRow) * TShape.OutWidth;
        var columns = LayerNode.AlignColumns(count);
        Im2Col(work.X, cols, columns, bordered, columns - count, room: columns, firstRow, endRow);
        Gemm.MultiplyNN(TShape.OutChannels, columns, PatchLength, work.W, PatchLength, cols, columns, product, columns, accumulate: false);
        var first = firstRow * TShape.OutWidth;
        for (var c = 0; c < TShape.OutChannels; c++)
        {
            var residual = work.Residual == null ? null : work.Residual + (c * OutSpatial) + first;
            Epilogue.Channel(product + (c * columns), work.Y + (c * OutSpatial) + first, residual, count, work.ScaleData[c], work.ShiftData[c], work.Relu);
        }
    }

    /// <summary>
    /// Group <paramref name="g"/> of sample <paramref name="n"/> by the implicit path (see <see cref="Implicit"/>): border
    /// the input, multiply the weights by its shifted rows, store each output row's real columns.
    /// </summary>
    private static void ImplicitGroup(ForwardWork work, int n, int g, float* product, float* bordered)
    {
        Border(work.X + (((n * TShape.InChannels) + (g * GroupIn)) * InSpatial), bordered, bordered + PaddedInputLength);
        ImplicitChannels(work, n, g, 0, GroupOut, product, bordered);
    }

    /// <summary>Output channels <paramref name="from"/> to <paramref name="to"/> − 1 of group <paramref name="g"/> of sample <paramref name="n"/> from its bordered input.</summary>
    private static void ImplicitChannels(ForwardWork work, int n, int g, int from, int to, float* product, float* bordered)
    {
        var first = (g * GroupOut) + from;
        var sample = (n * TShape.OutChannels) + first;
        fixed (int* offsets = TapOffsets)
        {
            Gemm.MultiplyNNIndexed(to - from, ImplicitColumns, PatchLength, work.W + (first * PatchLength), PatchLength, bordered, offsets, product, ImplicitColumns, accumulate: false);
        }

        // The fused store reads each output row's real columns from the product (bordered width) and writes the output
        // plane, in one pass.
        for (var r = 0; r < to - from; r++)
        {
            var c = first + r;
            var residual = work.Residual == null ? null : work.Residual + ((sample + r) * OutSpatial);
            Epilogue.Rows(product + (r * ImplicitColumns), BorderedWidth, work.Y + ((sample + r) * OutSpatial), TShape.OutHeight, TShape.OutWidth, residual, work.ScaleData[c], work.ShiftData[c], work.Relu);
        }
    }

    /// <summary>One forward call's state; each part computes a contiguous range of samples.</summary>
    private sealed class ForwardWork : IParallelWork
    {
        public readonly float[] Scale = new float[TShape.OutChannels];
        public readonly float[] Shift = new float[TShape.OutChannels];
        public float* X;
        public float* W;
        public float* Y;
        public float* Residual;
        public float* ScaleData;
        public float* ShiftData;
        public bool Relu;
        public float* Scratch;
        public int ScratchStride;
        public int Batch;
        public bool SplitChannels;
        public bool SplitTiles;
        public bool SplitRows;
        public bool Winograd;

        /// <summary>Whether this Winograd call runs F(4×4, 3×3) over its samples (see Conv2DKernel.Winograd4.cs).</summary>
        public bool Winograd4;

        /// <summary>Whether this call takes the broadcast path (see Conv2DKernel.Broadcast.cs), and its packed weights and padded scale and shift.</summary>
        public bool Broadcast;
        public float* Packed;
        public readonly float[] BlockScale = new float[ChannelBlocks * 16];
        public readonly float[] BlockShift = new float[ChannelBlocks * 16];

        /// <summary>Whether the Winograd path adds its result onto y instead of storing it (<see cref="WinogradAccumulate"/>).</summary>
        public bool Accumulate;

        /// <summary>
        /// The filters after the Winograd transform, and each part's buffers rented from <see cref="WinogradWorkspace"/>
        /// by the calling thread (the Winograd path's workspace, or the broadcast path's stage).
        /// </summary>
        public float* U;
        public readonly nint[] PartSpaces = new nint[WorkerPool.Workers];

        public void Execute(int part, int parts)
        {
            if (Broadcast)
            {
                BroadcastPart(this, part, parts);
                return;
            }

            if (Winograd && SplitTiles)
            {
                WinogradTileRows(this, part, parts);
                return;
            }

            if (Winograd && SplitChannels)
            {
                WinogradChannels(this, part, parts);
                return;
            }

            if (Winograd4)
            {
                if (Batch == 1 && parts > 1 && OutBlocks4 >= 2)
                {
                    Winograd4Blocks(this, part, parts);
                }
                else if (Batch == 1 && parts > 1)
                {
                    Winograd4Band(this, part, parts);
                }
                else
                {
                    Winograd4Range(this, part, Batch * part / parts, Batch * (part + 1) / parts, 0, OutBlocks4);
                }

                return;
            }

            if (Winograd)
            {
                WinogradSamplesRange(this, part, Batch * part / parts, Batch * (part + 1) / parts);
                return;
            }

            if (SplitChannels)
            {
                ImplicitChannels(this, 0, 0, GroupOut * part / parts, GroupOut * (part + 1) / parts, Scratch + (part * ScratchStride), Scratch + ProductRegion);
                return;
            }

            var cols = Scratch + (part * ScratchStride);
            var product = cols + (PatchLength * Columns);
            var bordered = cols + ProductRegion;
            if (SplitRows)
            {
                OutputRows(this, TShape.OutHeight * part / parts, TShape.OutHeight * (part + 1) / parts, cols, product, bordered);
                return;
            }

            var (from, to) = (Batch * part / parts, Batch * (part + 1) / parts);
            for (var n = from; n < to; n += Samples)
            {
                var count = Math.Min(Samples, to - n);
                for (var g = 0; g < TShape.Groups; g++)
                {
                    if (Implicit && count == 1)
                    {
                        ImplicitGroup(this, n, g, product: cols, bordered);
                        continue;
                    }

                    for (var s = 0; s < count && !Direct; s++)
                    {
                        // Each sample's columns follow the previous one's; the last clears the rest of the vector.
                        var tail = s < count - 1 ? 0 : LayerNode.AlignColumns(count * OutSpatial) - (count * OutSpatial);
                        Im2Col(X + ((((n + s) * TShape.InChannels) + (g * GroupIn)) * InSpatial), cols + (s * OutSpatial), Columns, bordered, tail, room: Columns - (s * OutSpatial));
                    }

                    Group(this, n, count, g, cols, product);
                }
            }
        }
    }

    /// <summary>
    /// Unfolds one sample's group into columns: row (c, kh, kw), column (oh, ow); out-of-image taps are 0.
    /// Rows are <paramref name="rowStride"/> floats apart and <paramref name="cols"/> is this sample's first column
    /// (other samples' columns may sit beside it in the same rows); the <paramref name="tail"/> columns after the
    /// sample's are zeroed, and each row ends <paramref name="room"/> floats after the sample's first column.
    /// The group's input is first copied into <paramref name="bordered"/> with its zero border
    /// (<see cref="PaddedInputLength"/> floats), so each output row is read from one bordered row without edge tests
    /// (at stride 1, one vector copy).
    /// </summary>
    private static void Im2Col(float* input, float* cols, int rowStride, float* bordered, int tail, int room) =>
        Im2Col(input, cols, rowStride, bordered, tail, room, 0, TShape.OutHeight);

    /// <summary>The same for output rows <paramref name="firstRow"/> to <paramref name="endRow"/> − 1 only, whose columns start at <paramref name="cols"/>.</summary>
    private static void Im2Col(float* input, float* cols, int rowStride, float* bordered, int tail, int room, int firstRow, int endRow)
    {
        int k = TShape.Kernel, s = TShape.Stride, ow = TShape.OutWidth;
        var row = cols;
        int bh = BorderedHeight, bw = BorderedWidth;
        var borderedEnd = bordered + PaddedInputLength;
        Border(input, bordered, borderedEnd);
        for (var c = 0; c < GroupIn; c++)
        {
            for (var kh = 0; kh < k; kh++)
            {
                for (var kw = 0; kw < k; kw++)
                {
                    var src = bordered + (((c * bh) + kh) * bw) + kw;
                    for (var y = firstRow; y < endRow; y++)
                    {
                        var from = src + (y * s * bw);
                        var to = row + ((y - firstRow) * ow);
                        if (s == 1)
                        {
                            // The vector copy may overshoot into what is written after it: the rest of the row (later
                            // runs, later samples' columns, the tail), not the next row, which an earlier sample wrote.
                            CopyRun(from, to, ow, borderedEnd, row + room);
                            continue;
                        }

                        if (s == 2 && Simd.PairPermutes)
                        {
                            EveryOther(from, to, ow, borderedEnd, row + room);
                            continue;
                        }

                        for (var x = 0; x < ow; x++)
                        {
                            to[x] = from[x * s];
                        }
                    }

                    new Span<float>(row + ((endRow - firstRow) * ow), tail).Clear();
                    row += rowStride;
                }
            }
        }
    }

    /// <summary>Whether <see cref="CopyRun"/> copies a run of up to 16 floats as one 512-bit vector.</summary>
    private static readonly bool WideRuns = Simd.Level == SimdLevel.Vector512 && Vector512.IsHardwareAccelerated;

    /// <summary>
    /// <c>dst[x] = src[2x]</c> for <paramref name="count"/> floats, 16 per permute of two loads while the reads stay before
    /// <paramref name="srcEnd"/> and the (up to 15 floats overshooting) stores before <paramref name="dstEnd"/>, the rest one
    /// at a time. A stride-2 layer unfolds its whole input this way; one float at a time, the unfolding took longer than
    /// the product (tiny ResNet's 16→32 stride-2 layer at batch 1: 32 µs for 0.9 M multiply-adds).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void EveryOther(float* src, float* dst, int count, float* srcEnd, float* dstEnd)
    {
        var x = 0;
        for (; x < count && src + (2 * x) + 32 <= srcEnd && dst + x + 16 <= dstEnd; x += 16)
        {
            Avx512F.PermuteVar16x32x2(Vector512.Load(src + (2 * x)), Simd.EvenLanes, Vector512.Load(src + (2 * x) + 16)).Store(dst + x);
        }

        for (; x < count; x++)
        {
            dst[x] = src[2 * x];
        }
    }

    /// <summary>Copies the group's input planes into <paramref name="bordered"/>, each inside a zero border of the padding's width.</summary>
    private static void Border(float* input, float* bordered, float* borderedEnd) =>
        Border(input, GroupIn, TShape.InHeight, TShape.InWidth, TShape.Padding, bordered, borderedEnd);

    /// <summary>
    /// Copies <paramref name="channels"/> planes of <paramref name="h"/> × <paramref name="wd"/> into <paramref name="bordered"/>,
    /// each inside a zero border <paramref name="pad"/> wide, and zeroes what follows up to <paramref name="borderedEnd"/>
    /// (the slack that the last rows' vector reads touch).
    /// </summary>
    private static void Border(float* input, int channels, int h, int wd, int pad, float* bordered, float* borderedEnd) =>
        Border(input, channels, h, wd, pad, h + (2 * pad), wd + (2 * pad), bordered, borderedEnd);

    /// <summary>
    /// As above, into planes of <paramref name="bh"/> × <paramref name="bw"/> (at least the padded size): the input sits
    /// <paramref name="pad"/> rows and columns in, and everything else is zero.
    /// </summary>
    private static void Border(float* input, int channels, int h, int wd, int pad, int bh, int bw, float* bordered, float* borderedEnd)
    {
        for (var c = 0; c < channels; c++)
        {
            var plane = bordered + (c * bh * bw);
            new Span<float>(plane, pad * bw).Clear();
            for (var y = 0; y < h; y++)
            {
                var dst = plane + ((y + pad) * bw);
                for (var x = 0; x < pad; x++)
                {
                    dst[x] = 0f;
                }

                // The run may overshoot into the right border and the next row's left border: both are zeroed after it.
                CopyRun(input + (((c * h) + y) * wd), dst + pad, wd, input + (channels * h * wd), borderedEnd);
                for (var x = pad + wd; x < bw; x++)
                {
                    dst[x] = 0f;
                }
            }

            new Span<float>(plane + ((pad + h) * bw), (bh - pad - h) * bw).Clear();
        }

        var end = bordered + (channels * bh * bw);
        new Span<float>(end, (int)(borderedEnd - end)).Clear();
    }

    /// <summary>
    /// Copies <paramref name="count"/> floats in whole 256-bit vectors, reading and writing up to 7 floats past the run
    /// where that stays before <paramref name="srcEnd"/> and <paramref name="dstEnd"/>. Im2col copies thousands of
    /// runs of 7–28 floats per sample, and a span copy per run cost about a quarter of a 3×3 layer's time (55 µs of
    /// 220 µs per sample for 128 channels at 7×7). What the overshoot writes is written again after it: the rest of
    /// the run (its zero padding), the next run or row, or the zeroed tail of the row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRun(float* src, float* dst, int count, float* srcEnd, float* dstEnd)
    {
        // A run of 9–16 floats (10×10 and 14×14 outputs) in one 512-bit copy instead of two 256-bit ones.
        if (count > 8 && count <= 16 && WideRuns && src + 16 <= srcEnd && dst + 16 <= dstEnd)
        {
            Vector512.Store(Vector512.Load(src), dst);
            return;
        }

        var vectors = (count + 7) & ~7;
        var i = 0;
        if (src + vectors <= srcEnd && dst + vectors <= dstEnd)
        {
            for (; i < count; i += 8)
            {
                Vector256.Store(Vector256.Load(src + i), dst + i);
            }

            return;
        }

        for (; i + 8 <= count; i += 8)
        {
            Vector256.Store(Vector256.Load(src + i), dst + i);
        }

        for (; i < count; i++)
        {
            dst[i] = src[i];
        }
    }
}
