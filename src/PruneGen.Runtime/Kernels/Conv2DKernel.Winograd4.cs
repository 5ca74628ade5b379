using System;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PruneGen.Kernels;

/// <summary>
/// Winograd F(4×4, 3×3) with the channels in the vector lanes (16, or 8 with 256-bit vectors: <see cref="Lanes4"/>), for
/// the stride-1 3×3 layers whose channel counts fill its lanes well enough (<see cref="Winograd4Pays"/>), forward, input
/// gradient and weight gradient: each 4×4 block of outputs ("tile") comes from a 6×6 block of the bordered input, and
/// the 36 positions e of a tile are 36 independent products <c>M[e] = V[e] · U[e]</c>, (tiles × Cin)·(Cin × Cout). That
/// is 36·Cin·Cout multiply-adds per 16 outputs against 144 for F(2×2, 3×3) and 144 for the direct method (4× fewer than
/// direct, 1.78× fewer than F(2×2)); at 14×14 and 7×7 outputs the tiles cover 16×16 and 8×8, so 1.36× and (against
/// F(2×2)'s 4×4 tiles at 7×7, which cover 8×8 too) 1.78×. The transforms use the points 0, ±1, ±2 (Lavin and Gray's
/// matrices), so the result differs from the direct sum by rounding (a few units in the sixth digit at these sizes).
/// </summary>
/// <remarks>
/// <para>
/// Why channels in the lanes: F(2×2)'s path (<c>Conv2DKernel.Winograd.cs</c>) puts 16 tiles in a vector and gathers
/// every other input column with permutes; a 6×6 tile at a step of 4 would need a permute per column and per input row.
/// With 16 channels of one pixel in a vector, every load of a tile transform is one whole vector, any output size tiles
/// without packing, and the products are the broadcast path's run (<see cref="Run{TRun, TV, TL}"/>): a run of up to 14 tiles ×
/// 16 output channels in registers, one broadcast transformed input value times 16 transformed filters per input channel.
/// </para>
/// <para>
/// Per sample: its input channels, 16 at a time, are transposed into a dense pixel-major copy (16 floats a pixel) and
/// copied into a zero-bordered one, whose tiles are transformed into <c>V[e][tile][ci]</c>; after the products
/// <c>M[e][block][tile][16]</c>, each output block's tiles are transformed back with the fused scale and shift (and
/// ReLU without a residual) into a stage of 16 floats a pixel, which is transposed into the output planes (or, for the
/// input gradient, into a plane copy added onto them); a residual is added over the block's planes after that. Samples go
/// in chunks of at least 28 tiles (<see cref="Chunk4"/>) so the products keep their runs long at 7×7; one sample of fewer
/// than 14 tiles (7×7: 4) multiplies 4 tiles × 3 output blocks at a time (<see cref="FourTiles"/>). One sample on several
/// threads is split by blocks of output channels, or, for a single block, by bands of tile rows. The transformed
/// filters <c>U[e][block][ci][16]</c> are kept per layer and thread like F(2×2)'s (<see cref="WinogradFilters"/>): 36/9
/// = 4× the layer's weights (F(2×2)'s are 16/9×) plus their copy, about 6 MB for VggNet per calling thread.
/// </para>
/// </remarks>
public static unsafe partial class Conv2DKernel<TShape>
{
    /// <summary>
    /// Lanes of F(4×4)'s vectors: 16 on AVX-512, 8 with 256-bit vectors (where F(2×2), which needs AVX-512's permutes, is
    /// not available). On AVX-512, 8 lanes for the channel counts that fill blocks of 8 better (22 → 24 lanes, not 32)
    /// were measured and dropped: Zen 4 runs a 512-bit operation for the price of a 256-bit one, so the transforms cost
    /// twice as much per channel and the products gained nothing (22→22 @28² 3.2–3.3 ms against F(2×2)'s 3.1–3.3,
    /// 23→23 @14² 0.95–1.0 against 0.85–0.86, 8→8 @28² 0.57–0.59 against 0.58–0.59; batch 64, one thread).
    /// </summary>
    internal static readonly int Lanes4 = Simd.Level == SimdLevel.Vector512 ? 16 : 8;

    /// <summary>Blocks of <see cref="Lanes4"/> input channels (the last one's lanes past the last channel are never read).</summary>
    private static readonly int InBlocks4 = (TShape.InChannels + Lanes4 - 1) / Lanes4;

    /// <summary>Blocks of <see cref="Lanes4"/> output channels (the last one's lanes past the last channel have zero filters).</summary>
    private static readonly int OutBlocks4 = (TShape.OutChannels + Lanes4 - 1) / Lanes4;

    /// <summary>
    /// Floats per tile of the transformed input: the input channels padded to whole blocks. A field, as the other sizes a
    /// product run reads are, so the optimized run sees a constant: as a property it stayed a call per position and input
    /// channel when the runtime compiled without profile data (`perf`, DOTNET_TieredPGO=0: 17 % of the layer).
    /// </summary>
    private static readonly int TileStride4 = Lanes4 * InBlocks4;

    private static readonly int Tile4Rows = (TShape.OutHeight + 3) / 4;

    private static readonly int Tile4Columns = (TShape.OutWidth + 3) / 4;

    private static readonly int Tiles4 = Tile4Rows * Tile4Columns;

    /// <summary>Samples per chunk: enough for at least 28 tiles (7 at 7×7, 2 at 14×14, 1 at 28×28).</summary>
    private static readonly int Chunk4 = Math.Max(1, (28 + Tiles4 - 1) / Tiles4);

    /// <summary>Runs of the products over a whole chunk (at most 14 tiles each).</summary>
    private static readonly int Chunk4Runs = ((Chunk4 * Tiles4) + 13) / 14;

    /// <summary>Tiles per run: the chunk's tiles in equal runs (13 of 49 at 28×28, 11 of 32 at 14×14, 14 of 28 at 7×7).</summary>
    private static readonly int Run4 = ((Chunk4 * Tiles4) + Chunk4Runs - 1) / Chunk4Runs;

    /// <summary>Tile rows of the products (the chunk's tiles rounded up to whole runs; a last short chunk computes some stale rows).</summary>
    private static readonly int Chunk4Rows = Chunk4Runs * Run4;

    private static int Bordered4Height => (4 * Tile4Rows) + 2;

    private static int Bordered4Width => (4 * Tile4Columns) + 2;

    /// <summary>Floats from one position e's transformed inputs to the next (staggered: the 36 are written side by side).</summary>
    private static int V4Plane => Stagger(Chunk4Rows * TileStride4);

    /// <summary>Floats from one position e's products to the next: [block][tile][lane].</summary>
    private static int M4Plane => Stagger(OutBlocks4 * Chunk4Rows * Lanes4);

    /// <summary>Floats from one position e's transformed filters to the next: [block][ci][lane].</summary>
    private static int U4Plane => Stagger(OutBlocks4 * TShape.InChannels * Lanes4);

    private static int Winograd4PartLength =>
        (36 * V4Plane) + (36 * M4Plane) + (Lanes4 * ((InSpatial + (Bordered4Height * Bordered4Width) + (2 * OutSpatial) + 2)));

    /// <summary>Input channel offsets 0 … Cin − 1: the "taps" of a product run (one broadcast value per input channel).</summary>
    private static readonly int[] ChannelSteps = Enumerable.Range(0, TShape.InChannels).ToArray();

    /// <summary>
    /// Tile offsets in the transformed input: the "taps" of the weight gradient's run (one broadcast value per tile). Here,
    /// after the sizes it is made from, because fields of one class in different files initialize in no fixed order.
    /// </summary>
    private static readonly int[] TileSteps = Enumerable.Range(0, Chunk4Rows).Select(t => t * TileStride4).ToArray();

    [ThreadStatic]
    private static WinogradFilters? t_filters4;

    /// <summary>
    /// Whether F(4×4) beats F(2×2) on this shape: its products are 64/36 = 1.78× fewer per covered output (less where its
    /// 4×4 tiles cover more padding, 1.36× at 14×14), but channels fill its lanes in blocks of 16, and both its transforms
    /// and its products pay for the empty lanes, where F(2×2)'s tiles fill them whatever the channel count. So F(4×4) is
    /// taken where that advantage times the lanes' fill (Cin·Cout of the padded blocks' product) is at least 1. Measured
    /// (one thread, batch 64, `convs`, F(2×2) → F(4×4) µs): 16→16 @28² 1 900–2 060 → 1 530–1 710 (1.78 × 1.00), 32→32 @14²
    /// 2 055 → 1 235 (1.36 × 1.00), 45→45 @7² 840–890 → 570–610 (1.78 × 0.88), 31→31 @7² 455 → 330–365; against it
    /// 11→11 @28² 925–970 → 1 205–1 405 (1.78 × 0.47), 23→23 @14² 875–990 → 995–1 070 (1.36 × 0.52), 8→8 @28²
    /// 870 → 1 020 (1.78 × 0.25).
    /// <para>
    /// With 256-bit vectors the alternative is the implicit product (9 multiply-adds per output and channel pair against
    /// F(4×4)'s 2.25, 4×), so the gate is 4 × the fill of blocks of 8 × the tiles' cover of the output ≥ 2.5, the rest
    /// going to the transforms. Measured there (`PRUNEGEN_SIMD=256`, one thread, batch 64, implicit → F(4×4) ms): 32→32
    /// @28² 11.4 → 4.9, 64→64 @14² 11.6 → 5.0, 128→128 @7² 11.3 → 7.2, 16→16 @28² 2.8 → 2.4, 32→32 @14² 3.0 → 1.5,
    /// 23→23 @14² 1.53 → 1.00 (score 2.8), 8→8 @28² 0.77 → 0.55 (4.0), 22→22 @28² 5.3 → 3.4 (3.4); against it 11→11
    /// @28² 1.27 → 1.53 (score 1.9).
    /// </para>
    /// </summary>
    internal static readonly bool Winograd4Pays = Simd.Level == SimdLevel.Vector512
        ? Fill4 * (64.0 / 36) * (4 * TilesPerSample) / (16 * Tiles4) >= 1.0
        : Fill4 * 4.0 * OutSpatial / (16 * Tiles4) >= 2.5;

    /// <summary>The share of the padded blocks' Cin·Cout product (blocks of <see cref="Lanes4"/>) that real channels take.</summary>
    private static double Fill4 => (double)TShape.InChannels * TShape.OutChannels / (TileStride4 * Lanes4 * OutBlocks4);

    /// <summary>Before the parts run: rent each part's buffers, find the transformed filters and pad the fused scale and shift to whole blocks.</summary>
    private static void Winograd4Prepare(ForwardWork work, int parts)
    {
        for (var p = 0; p < parts; p++)
        {
            work.PartSpaces[p] = (nint)WinogradWorkspace.Rent(p, Winograd4PartLength);
        }

        delegate*<float*, float*, void> transform = Lanes4 == 16 ? &TransformWeights4<Vector512<float>, Lanes16> : &TransformWeights4<Vector256<float>, Lanes8>;
        work.U = (t_filters4 ??= new WinogradFilters((36 * U4Plane) + (9 * Lanes4 * TShape.InChannels), transform)).For(work.W);
        work.Scale.CopyTo(work.BlockScale, 0);
        work.Shift.CopyTo(work.BlockShift, 0);
    }

    /// <summary>
    /// Transforms every filter: <c>U[e][block][ci][lane] = (G·g·Gᵀ)[e]</c> for <c>g = W[L·block + lane, ci]</c>, L output
    /// channels per vector (the weights transposed tap-major per block first, into the buffer's tail).
    /// </summary>
    private static void TransformWeights4<TV, TL>(float* weight, float* u)
        where TV : unmanaged
        where TL : ILanes<TV>
    {
        int cin = TShape.InChannels, patch = 9 * cin, plane = U4Plane, l = TL.Count;
        var packed = u + (36 * plane);
        for (var b = 0; b < OutBlocks4; b++)
        {
            var channels = Math.Min(l, TShape.OutChannels - (l * b));
            if (channels < l)
            {
                new Span<float>(packed, l * patch).Clear();
            }

            Transpose.Matrix(weight + (l * b * patch), channels, patch, patch, packed, l);
            for (var ci = 0; ci < cin; ci++)
            {
                var g = packed + (ci * 9 * l);

                // G down each filter column (kh), then along each of the 6 rows (kw): position e = 6·row + column.
                G6(TL.Load(g), TL.Load(g + (3 * l)), TL.Load(g + (6 * l)), out var h00, out var h10, out var h20, out var h30, out var h40, out var h50);
                G6(TL.Load(g + l), TL.Load(g + (4 * l)), TL.Load(g + (7 * l)), out var h01, out var h11, out var h21, out var h31, out var h41, out var h51);
                G6(TL.Load(g + (2 * l)), TL.Load(g + (5 * l)), TL.Load(g + (8 * l)), out var h02, out var h12, out var h22, out var h32, out var h42, out var h52);
                var target = u + (((b * cin) + ci) * l);
                Row(h00, h01, h02, target, plane);
                Row(h10, h11, h12, target + (6 * plane), plane);
                Row(h20, h21, h22, target + (12 * plane), plane);
                Row(h30, h31, h32, target + (18 * plane), plane);
                Row(h40, h41, h42, target + (24 * plane), plane);
                Row(h50, h51, h52, target + (30 * plane), plane);
            }
        }

        static void Row(TV g0, TV g1, TV g2, float* target, int plane)
        {
            G6(g0, g1, g2, out var u0, out var u1, out var u2, out var u3, out var u4, out var u5);
            TL.Store(u0, target);
            TL.Store(u1, target + plane);
            TL.Store(u2, target + (2 * plane));
            TL.Store(u3, target + (3 * plane));
            TL.Store(u4, target + (4 * plane));
            TL.Store(u5, target + (5 * plane));
        }

        // G = [1/4, 0, 0; −1/6, −1/6, −1/6; −1/6, 1/6, −1/6; 1/24, 1/12, 1/6; 1/24, −1/12, 1/6; 0, 0, 1].
        static void G6(TV g0, TV g1, TV g2, out TV u0, out TV u1, out TV u2, out TV u3, out TV u4, out TV u5)
        {
            var sum = TL.Add(g0, g2);
            var sixth = TL.Broadcast(-1f / 6);
            var even = TL.MultiplyAdd(g0, TL.Broadcast(1f / 24), TL.Multiply(g2, TL.Broadcast(1f / 6)));
            u0 = TL.Multiply(g0, TL.Broadcast(0.25f));
            u1 = TL.Multiply(TL.Add(sum, g1), sixth);
            u2 = TL.Multiply(TL.Subtract(sum, g1), sixth);
            u3 = TL.MultiplyAdd(g1, TL.Broadcast(1f / 12), even);
            u4 = TL.MultiplyAdd(g1, TL.Broadcast(-1f / 12), even);
            u5 = g2;
        }
    }

    /// <summary>
    /// One part's F(4×4) workspace from <paramref name="space"/>, in order: transformed inputs, products (the weight gradient's
    /// dM), the dense and bordered input block, the stage, a plane copy.
    /// </summary>
    private static void Winograd4Space(float* space, out float* v, out float* m, out float* dense, out float* bordered, out float* stage, out float* planes)
    {
        var l = Lanes4;
        v = space;
        m = v + (36 * V4Plane);
        dense = m + (36 * M4Plane);
        bordered = dense + (l * InSpatial) + l;
        stage = bordered + (l * Bordered4Height * Bordered4Width);
        planes = stage + (l * OutSpatial);
    }

    /// <summary>
    /// Samples <paramref name="from"/> to <paramref name="to"/> − 1 by F(4×4), <see cref="Chunk4"/> at a time, their blocks of
    /// output channels <paramref name="firstBlock"/> to <paramref name="endBlock"/> − 1 (all of them, except for one sample
    /// split across the threads by blocks).
    /// </summary>
    private static void Winograd4Range(ForwardWork work, int part, int from, int to, int firstBlock, int endBlock)
    {
        if (Lanes4 == 16)
        {
            Winograd4Range<Vector512<float>, Lanes16>(work, part, from, to, firstBlock, endBlock);
        }
        else
        {
            Winograd4Range<Vector256<float>, Lanes8>(work, part, from, to, firstBlock, endBlock);
        }
    }

    private static void Winograd4Range<TV, TL>(ForwardWork work, int part, int from, int to, int firstBlock, int endBlock)
        where TV : unmanaged
        where TL : ILanes<TV>
    {
        Winograd4Space((float*)work.PartSpaces[part], out var v, out var m, out var dense, out var bordered, out var stage, out var planes);
        ClearBorder4(bordered);
        var cin = TShape.InChannels;
        for (var n = from; n < to; n += Chunk4)
        {
            var count = Math.Min(Chunk4, to - n);
            for (var s = 0; s < count; s++)
            {
                TransformInput4<TV, TL>(work.X + ((n + s) * cin * InSpatial), v + (s * Tiles4 * TileStride4), dense, bordered, 0, Tile4Rows);
            }

            Products4<TV, TL>(work.U, v, m, count * Tiles4, firstBlock, endBlock);
            for (var s = 0; s < count; s++)
            {
                for (var b = firstBlock; b < endBlock; b++)
                {
                    OutputBlock4<TV, TL>(work, m + (((b * Chunk4Rows) + (s * Tiles4)) * TL.Count), n + s, b, stage, planes, 0, Tile4Rows);
                }
            }
        }
    }

    /// <summary>
    /// One sample on several threads (batch 1), split by blocks of output channels: each part transforms the whole input
    /// (4 tiles a channel at 7×7, 16 at 14×14: cheap beside its share of the products).
    /// </summary>
    private static void Winograd4Blocks(ForwardWork work, int part, int parts) =>
        Winograd4Range(work, part, 0, 1, OutBlocks4 * part / parts, OutBlocks4 * (part + 1) / parts);

    /// <summary>
    /// One sample on several threads (batch 1) whose output channels are a single block, split by bands of tile rows: each
    /// part transposes the input rows its tiles read, and transforms, multiplies and stores only its own tiles.
    /// </summary>
    private static void Winograd4Band(ForwardWork work, int part, int parts)
    {
        if (Lanes4 == 16)
        {
            Winograd4Band<Vector512<float>, Lanes16>(work, part, parts);
        }
        else
        {
            Winograd4Band<Vector256<float>, Lanes8>(work, part, parts);
        }
    }

    private static void Winograd4Band<TV, TL>(ForwardWork work, int part, int parts)
        where TV : unmanaged
        where TL : ILanes<TV>
    {
        int firstRow = Tile4Rows * part / parts, endRow = Tile4Rows * (part + 1) / parts;
        if (firstRow >= endRow)
        {
            return;
        }

        Winograd4Space((float*)work.PartSpaces[part], out var v, out var m, out var dense, out var bordered, out var stage, out var planes);
        ClearBorder4(bordered);
        TransformInput4<TV, TL>(work.X, v, dense, bordered, firstRow, endRow);
        Products4<TV, TL>(work.U, v, m, (endRow - firstRow) * Tile4Columns, 0, OutBlocks4);
        for (var b = 0; b < OutBlocks4; b++)
        {
            OutputBlock4<TV, TL>(work, m + (b * Chunk4Rows * TL.Count), 0, b, stage, planes, firstRow, endRow);
        }
    }

    /// <summary>
    /// The 36 products <c>M[e] = V[e]·U[e]</c> of <paramref name="tiles"/> tiles for output blocks <paramref name="firstBlock"/>
    /// to <paramref name="endBlock"/> − 1: in runs of <see cref="Run4"/> tiles × L channels, or, for fewer than 14 tiles
    /// (one sample at 7×7: 4), in groups of 4 tiles × 3 blocks, so that a short run does not leave the registers idle.
    /// </summary>
    private static void Products4<TV, TL>(float* u, float* v, float* m, int tiles, int firstBlock, int endBlock)
        where TV : unmanaged
        where TL : ILanes<TV>
    {
        int cin = TShape.InChannels, l = TL.Count;
        var one = TL.Broadcast(1f);
        fixed (int* steps = ChannelSteps)
        {
            for (var e = 0; e < 36; e++)
            {
                float* ve = v + (e * V4Plane), ue = u + (e * U4Plane), me = m + (e * M4Plane);
                if (tiles < 14)
                {
                    for (var t = 0; t < tiles; t += 4)
                    {
                        for (var b = firstBlock; b < endBlock; b += 3)
                        {
                            FourTiles<TV, TL>(ve + (t * TileStride4), ue + (b * cin * l), me + (((b * Chunk4Rows) + t) * l), Math.Min(3, endBlock - b));
                        }
                    }

                    continue;
                }

                var runs = (tiles + Run4 - 1) / Run4;
                for (var r = 0; r < runs; r++)
                {
                    for (var b = firstBlock; b < endBlock; b++)
                    {
                        Run<Winograd4Run, TV, TL>(ve + (r * Run4 * TileStride4), ue + (b * cin * l), steps, cin, me + (((b * Chunk4Rows) + (r * Run4)) * l), one, TL.Zero, relu: false, skip: -1);
                    }
                }
            }
        }
    }

    /// <summary>
    /// 4 tiles × <paramref name="blocks"/> (1 to 3) blocks of L output channels in 12 registers: per input channel, 3 loads of
    /// filters and 4 broadcasts feed 12 multiply-adds (a run of 4 tiles would feed 4 from 5 loads).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FourTiles<TV, TL>(float* v, float* u, float* m, int blocks)
        where TV : unmanaged
        where TL : ILanes<TV>
    {
        int cin = TShape.InChannels, stride = TileStride4, l = TL.Count, block = l * cin, rows = l * Chunk4Rows;
        TV a00 = TL.Zero, a01 = TL.Zero, a02 = TL.Zero, a03 = TL.Zero;
        TV a10 = TL.Zero, a11 = TL.Zero, a12 = TL.Zero, a13 = TL.Zero;
        TV a20 = TL.Zero, a21 = TL.Zero, a22 = TL.Zero, a23 = TL.Zero;
        for (var ci = 0; ci < cin; ci++)
        {
            TV x0 = TL.Broadcast(v[ci]), x1 = TL.Broadcast(v[stride + ci]), x2 = TL.Broadcast(v[(2 * stride) + ci]), x3 = TL.Broadcast(v[(3 * stride) + ci]);
            var w = TL.Load(u + (l * ci));
            a00 = TL.MultiplyAdd(x0, w, a00);
            a01 = TL.MultiplyAdd(x1, w, a01);
            a02 = TL.MultiplyAdd(x2, w, a02);
            a03 = TL.MultiplyAdd(x3, w, a03);
            if (blocks > 1)
            {
                w = TL.Load(u + block + (l * ci));
                a10 = TL.MultiplyAdd(x0, w, a10);
                a11 = TL.MultiplyAdd(x1, w, a11);
                a12 = TL.MultiplyAdd(x2, w, a12);
                a13 = TL.MultiplyAdd(x3, w, a13);
            }

            if (blocks > 2)
            {
                w = TL.Load(u + (2 * block) + (l * ci));
                a20 = TL.MultiplyAdd(x0, w, a20);
                a21 = TL.MultiplyAdd(x1, w, a21);
                a22 = TL.MultiplyAdd(x2, w, a22);
                a23 = TL.MultiplyAdd(x3, w, a23);
            }
        }

        Store(a00, a01, a02, a03, m);
        if (blocks > 1)
        {
            Store(a10, a11, a12, a13, m + rows);
        }

        if (blocks > 2)
        {
            Store(a20, a21, a22, a23, m + (2 * rows));
        }

        static void Store(TV t0, TV t1, TV t2, TV t3, float* m)
        {
            TL.Store(t0, m);
            TL.Store(t1, m + TL.Count);
            TL.Store(t2, m + (2 * TL.Count));
            TL.Store(t3, m + (3 * TL.Count));
        }
    }

    /// <summary>Zeroes the bordered block's border: the rows above and below the input and the columns beside it (its interior is rewritten per block).</summary>
    private static void ClearBorder4(float* bordered)
    {
        int bw = Bordered4Width, pad = TShape.Padding, h = TShape.InHeight, wd = TShape.InWidth, l = Lanes4;
        new Span<float>(bordered, l * pad * bw).Clear();
        for (var y = pad; y < pad + h; y++)
        {
            var row = bordered + (l * y * bw);
            new Span<float>(row, l * pad).Clear();
            new Span<float>(row + (l * (pad + wd)), l * (bw - pad - wd)).Clear();
        }

        new Span<float>(bordered + (l * (pad + h) * bw), l * (Bordered4Height - pad - h) * bw).Clear();
    }

    /// <summary>
    /// One sample's <c>V[e][tile][ci] = (Bᵀ·d·B)[e]</c> for its tile rows <paramref name="firstRow"/> to <paramref name="endRow"/> − 1
    /// into <paramref name="v"/> (their first tile): per block of L input channels, the rows they read transposed
    /// pixel-major into <paramref name="dense"/>, copied inside the border, then each tile.
    /// </summary>
    private static void TransformInput4<TV, TL>(float* input, float* v, float* dense, float* bordered, int firstRow, int endRow)
        where TV : unmanaged
        where TL : ILanes<TV>
    {
        int bw = Bordered4Width, pad = TShape.Padding, wd = TShape.InWidth, tc = Tile4Columns, stride = TileStride4, plane = V4Plane, l = TL.Count;

        // The input rows the band's tiles read (all of them unless one sample is split by bands).
        int top = Math.Max(0, (4 * firstRow) - pad), bottom = Math.Min(TShape.InHeight, (4 * endRow) + 2 - pad);
        var rows = stackalloc float[36 * 16];
        for (var b = 0; b < InBlocks4; b++)
        {
            var channels = Math.Min(l, TShape.InChannels - (l * b));
            Transpose.Matrix(input + (l * b * InSpatial) + (top * wd), channels, (bottom - top) * wd, InSpatial, dense + (l * top * wd), l);
            for (var y = top; y < bottom; y++)
            {
                new ReadOnlySpan<float>(dense + (l * y * wd), l * wd).CopyTo(new Span<float>(bordered + (l * (((y + pad) * bw) + pad)), l * wd));
            }

            for (var ty = firstRow; ty < endRow; ty++)
            {
                for (var tx = 0; tx < tc; tx++)
                {
                    TileIn(bordered + (l * ((4 * ty * bw) + (4 * tx))), l * bw, rows, v + (((((ty - firstRow) * tc) + tx) * stride) + (l * b)), plane);
                }
            }
        }

        // Bᵀ down each of the tile's 6 columns into rows (6 × 6 vectors), then along each row into positions e = 6·row + column.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void TileIn(float* origin, int rowStep, float* rows, float* target, int plane)
        {
            var l = TL.Count;
            for (var j = 0; j < 6; j++)
            {
                var c = origin + (l * j);
                Bt6(TL.Load(c), TL.Load(c + rowStep), TL.Load(c + (2 * rowStep)), TL.Load(c + (3 * rowStep)), TL.Load(c + (4 * rowStep)), TL.Load(c + (5 * rowStep)), rows + (l * j), 6 * l);
            }

            for (var k = 0; k < 6; k++)
            {
                var row = rows + (6 * l * k);
                Bt6(TL.Load(row), TL.Load(row + l), TL.Load(row + (2 * l)), TL.Load(row + (3 * l)), TL.Load(row + (4 * l)), TL.Load(row + (5 * l)), target + (6 * k * plane), plane);
            }
        }

        // Bᵀ = [4, 0, −5, 0, 1, 0; 0, −4, −4, 1, 1, 0; 0, 4, −4, −1, 1, 0; 0, −2, −1, 2, 1, 0; 0, 2, −1, −2, 1, 0; 0, 4, 0, −5, 0, 1].
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Bt6(TV d0, TV d1, TV d2, TV d3, TV d4, TV d5, float* target, int step)
        {
            TV four = TL.Broadcast(4f), minusFour = TL.Broadcast(-4f), five = TL.Broadcast(-5f), two = TL.Broadcast(2f), minusTwo = TL.Broadcast(-2f);
            TV sum12 = TL.Add(d1, d2), diff12 = TL.Subtract(d1, d2), diff31 = TL.Subtract(d3, d1), diff42 = TL.Subtract(d4, d2);
            TL.Store(TL.MultiplyAdd(four, d0, TL.MultiplyAdd(five, d2, d4)), target);
            TL.Store(TL.MultiplyAdd(minusFour, sum12, TL.Add(d3, d4)), target + step);
            TL.Store(TL.MultiplyAdd(four, diff12, TL.Subtract(d4, d3)), target + (2 * step));
            TL.Store(TL.MultiplyAdd(two, diff31, diff42), target + (3 * step));
            TL.Store(TL.MultiplyAdd(minusTwo, diff31, diff42), target + (4 * step));
            TL.Store(TL.MultiplyAdd(four, d1, TL.MultiplyAdd(five, d3, d5)), target + (5 * step));
        }
    }

    /// <summary>
    /// Output block <paramref name="block"/> of sample <paramref name="n"/>: <c>Y = Aᵀ·M·A</c> for each of its tiles (from
    /// <paramref name="m"/>, the block's first tile of the sample), with the fused scale and shift, into the stage (L
    /// floats a pixel, pixels past the output's edge dropped), then transposed into the output planes.
    /// </summary>
    private static void OutputBlock4<TV, TL>(ForwardWork work, float* m, int n, int block, float* stage, float* planes, int firstRow, int endRow)
        where TV : unmanaged
        where TL : ILanes<TV>
    {
        int tc = Tile4Columns, ow = TShape.OutWidth, oh = TShape.OutHeight, plane = M4Plane, l = TL.Count;
        var inRegisters = work.Residual == null && !work.Accumulate;
        var relu = inRegisters && work.Relu;
        TV scale = TL.Broadcast(1f), shift = TL.Zero;
        if (!work.Accumulate)
        {
            fixed (float* blockScale = work.BlockScale, blockShift = work.BlockShift)
            {
                scale = TL.Load(blockScale + (l * block));
                shift = TL.Load(blockShift + (l * block));
            }
        }

        var columns = stackalloc float[24 * 16];
        for (var ty = firstRow; ty < endRow; ty++)
        {
            for (var tx = 0; tx < tc; tx++)
            {
                var tile = m + (l * (((ty - firstRow) * tc) + tx));

                // Aᵀ along each of the 6 rows of M (into 4 columns), then down each column into the tile's 4 output rows.
                for (var k = 0; k < 6; k++)
                {
                    var row = tile + (6 * k * plane);
                    At6(TL.Load(row), TL.Load(row + plane), TL.Load(row + (2 * plane)), TL.Load(row + (3 * plane)), TL.Load(row + (4 * plane)), TL.Load(row + (5 * plane)), out var c0, out var c1, out var c2, out var c3);
                    var at = columns + (l * k);
                    TL.Store(c0, at);
                    TL.Store(c1, at + (6 * l));
                    TL.Store(c2, at + (12 * l));
                    TL.Store(c3, at + (18 * l));
                }

                for (var c = 0; c < 4 && (4 * tx) + c < ow; c++)
                {
                    var column = columns + (6 * l * c);
                    At6(TL.Load(column), TL.Load(column + l), TL.Load(column + (2 * l)), TL.Load(column + (3 * l)), TL.Load(column + (4 * l)), TL.Load(column + (5 * l)), out var o0, out var o1, out var o2, out var o3);
                    var pixel = stage + (l * ((4 * ty * ow) + (4 * tx) + c));
                    var rows = Math.Min(4, oh - (4 * ty));
                    Store(o0, scale, shift, relu, pixel);
                    if (rows > 1)
                    {
                        Store(o1, scale, shift, relu, pixel + (l * ow));
                    }

                    if (rows > 2)
                    {
                        Store(o2, scale, shift, relu, pixel + (2 * l * ow));
                    }

                    if (rows > 3)
                    {
                        Store(o3, scale, shift, relu, pixel + (3 * l * ow));
                    }
                }
            }
        }

        // The stage's rows (pixels) of the band's output rows become the planes' columns: stored, or added onto the output
        // for the input gradient.
        var channels = Math.Min(l, TShape.OutChannels - (l * block));
        int from = 4 * firstRow * ow, length = (Math.Min(4 * endRow, oh) * ow) - from;
        var first = work.Y + (((n * TShape.OutChannels) + (l * block)) * OutSpatial) + from;
        if (work.Accumulate)
        {
            Transpose.Matrix(stage + (l * from), length, channels, l, planes, OutSpatial);
            for (var c = 0; c < channels; c++)
            {
                var run = new Span<float>(first + (c * OutSpatial), length);
                System.Numerics.Tensors.TensorPrimitives.Add(run, new ReadOnlySpan<float>(planes + (c * OutSpatial), length), run);
            }

            return;
        }

        Transpose.Matrix(stage + (l * from), length, channels, l, first, OutSpatial);
        if (work.Residual != null)
        {
            var residual = work.Residual + (first - work.Y);
            for (var c = 0; c < channels; c++)
            {
                Epilogue.Channel(first + (c * OutSpatial), first + (c * OutSpatial), residual + (c * OutSpatial), length, 1f, 0f, work.Relu);
            }
        }

        // Aᵀ = [1, 1, 1, 1, 1, 0; 0, 1, −1, 2, −2, 0; 0, 1, 1, 4, 4, 0; 0, 1, −1, 8, −8, 1].
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void At6(TV m0, TV m1, TV m2, TV m3, TV m4, TV m5, out TV o0, out TV o1, out TV o2, out TV o3)
        {
            TV sum12 = TL.Add(m1, m2), diff12 = TL.Subtract(m1, m2), sum34 = TL.Add(m3, m4), diff34 = TL.Subtract(m3, m4);
            o0 = TL.Add(TL.Add(m0, sum12), sum34);
            o1 = TL.MultiplyAdd(TL.Broadcast(2f), diff34, diff12);
            o2 = TL.MultiplyAdd(TL.Broadcast(4f), sum34, sum12);
            o3 = TL.Add(TL.MultiplyAdd(TL.Broadcast(8f), diff34, diff12), m5);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Store(TV value, TV scale, TV shift, bool relu, float* target)
        {
            var r = TL.MultiplyAdd(value, scale, shift);
            TL.Store(relu ? TL.Max(r, TL.Zero) : r, target);
        }
    }

    /// <summary>The products' run: tiles <see cref="TileStride4"/> floats apart in the transformed input, <see cref="Lanes4"/> floats apart in the products.</summary>
    private readonly struct Winograd4Run : IRunOffsets
    {
        public static int Positions => Run4;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Source(int p) => p * TileStride4;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Target(int p) => p * Lanes4;
    }
}
