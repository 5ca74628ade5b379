using System;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PruneGen.Kernels;

/// <summary>
/// Winograd F(4×4, 3×3) with the channels in the vector lanes, for the stride-1 3×3 layers whose channel counts fill its
/// lanes well enough (<see cref="Winograd4Pays"/>), forward, input gradient and weight gradient: each 4×4 block of outputs ("tile") comes from a 6×6 block of the bordered input, and
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
/// without packing, and the products are the broadcast path's run (<see cref="Run{TRun}"/>): a run of up to 14 tiles ×
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
    /// <summary>Blocks of 16 input channels (the last one's lanes past the last channel are never read).</summary>
    private static readonly int InBlocks = (TShape.InChannels + 15) / 16;

    /// <summary>
    /// Floats per tile of the transformed input: the input channels padded to whole blocks. A field, as the other sizes a
    /// product run reads are, so the optimized run sees a constant: as a property it stayed a call per position and input
    /// channel when the runtime compiled without profile data (`perf`, DOTNET_TieredPGO=0: 17 % of the layer).
    /// </summary>
    private static readonly int TileStride4 = 16 * InBlocks;

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

    /// <summary>Floats from one position e's products to the next: [block][tile][16].</summary>
    private static int M4Plane => Stagger(ChannelBlocks * Chunk4Rows * 16);

    /// <summary>Floats from one position e's transformed filters to the next: [block][ci][16].</summary>
    private static int U4Plane => Stagger(ChannelBlocks * TShape.InChannels * 16);

    private static int Winograd4PartLength =>
        (36 * V4Plane) + (36 * M4Plane) + (16 * InSpatial) + 16 + (16 * Bordered4Height * Bordered4Width) + (32 * OutSpatial) + 16;

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
    /// </summary>
    internal static readonly bool Winograd4Pays =
        (double)TShape.InChannels * TShape.OutChannels / (TileStride4 * 16 * ChannelBlocks)
        * (64.0 / 36) * (4 * TilesPerSample) / (16 * Tiles4) >= 1.0;

    /// <summary>Before the parts run: rent each part's buffers, find the transformed filters and pad the fused scale and shift to whole blocks.</summary>
    private static void Winograd4Prepare(ForwardWork work, int parts)
    {
        for (var p = 0; p < parts; p++)
        {
            work.PartSpaces[p] = (nint)WinogradWorkspace.Rent(p, Winograd4PartLength);
        }

        work.U = (t_filters4 ??= new WinogradFilters((36 * U4Plane) + (9 * 16 * TShape.InChannels), &TransformWeights4)).For(work.W);
        work.Scale.CopyTo(work.BlockScale, 0);
        work.Shift.CopyTo(work.BlockShift, 0);
    }

    /// <summary>
    /// Transforms every filter: <c>U[e][block][ci][lane] = (G·g·Gᵀ)[e]</c> for <c>g = W[16·block + lane, ci]</c>, 16 output
    /// channels per vector (the weights transposed tap-major per block first, into the buffer's tail).
    /// </summary>
    private static void TransformWeights4(float* weight, float* u)
    {
        int cin = TShape.InChannels, patch = 9 * cin, plane = U4Plane;
        var packed = u + (36 * plane);
        for (var b = 0; b < ChannelBlocks; b++)
        {
            var channels = Math.Min(16, TShape.OutChannels - (16 * b));
            if (channels < 16)
            {
                new Span<float>(packed, 16 * patch).Clear();
            }

            Transpose.Matrix(weight + (16 * b * patch), channels, patch, patch, packed, 16);
            for (var ci = 0; ci < cin; ci++)
            {
                var g = packed + (ci * 9 * 16);

                // G down each filter column (kh), then along each of the 6 rows (kw): position e = 6·row + column.
                G6(Vector512.Load(g), Vector512.Load(g + 48), Vector512.Load(g + 96), out var h00, out var h10, out var h20, out var h30, out var h40, out var h50);
                G6(Vector512.Load(g + 16), Vector512.Load(g + 64), Vector512.Load(g + 112), out var h01, out var h11, out var h21, out var h31, out var h41, out var h51);
                G6(Vector512.Load(g + 32), Vector512.Load(g + 80), Vector512.Load(g + 128), out var h02, out var h12, out var h22, out var h32, out var h42, out var h52);
                var target = u + (((b * cin) + ci) * 16);
                Row(h00, h01, h02, target, plane);
                Row(h10, h11, h12, target + (6 * plane), plane);
                Row(h20, h21, h22, target + (12 * plane), plane);
                Row(h30, h31, h32, target + (18 * plane), plane);
                Row(h40, h41, h42, target + (24 * plane), plane);
                Row(h50, h51, h52, target + (30 * plane), plane);
            }
        }

        static void Row(Vector512<float> g0, Vector512<float> g1, Vector512<float> g2, float* target, int plane)
        {
            G6(g0, g1, g2, out var u0, out var u1, out var u2, out var u3, out var u4, out var u5);
            u0.Store(target);
            u1.Store(target + plane);
            u2.Store(target + (2 * plane));
            u3.Store(target + (3 * plane));
            u4.Store(target + (4 * plane));
            u5.Store(target + (5 * plane));
        }

        // G = [1/4, 0, 0; −1/6, −1/6, −1/6; −1/6, 1/6, −1/6; 1/24, 1/12, 1/6; 1/24, −1/12, 1/6; 0, 0, 1].
        static void G6(Vector512<float> g0, Vector512<float> g1, Vector512<float> g2, out Vector512<float> u0, out Vector512<float> u1, out Vector512<float> u2, out Vector512<float> u3, out Vector512<float> u4, out Vector512<float> u5)
        {
            var sum = g0 + g2;
            var sixth = Vector512.Create(-1f / 6);
            var even = Vector512.FusedMultiplyAdd(g0, Vector512.Create(1f / 24), g2 * Vector512.Create(1f / 6));
            u0 = g0 * Vector512.Create(0.25f);
            u1 = (sum + g1) * sixth;
            u2 = (sum - g1) * sixth;
            u3 = Vector512.FusedMultiplyAdd(g1, Vector512.Create(1f / 12), even);
            u4 = Vector512.FusedMultiplyAdd(g1, Vector512.Create(-1f / 12), even);
            u5 = g2;
        }
    }

    /// <summary>
    /// One part's F(4×4) workspace from <paramref name="space"/>, in order: transformed inputs, products (the weight gradient's
    /// dM), the dense and bordered input block, the stage, a plane copy.
    /// </summary>
    private static void Winograd4Space(float* space, out float* v, out float* m, out float* dense, out float* bordered, out float* stage, out float* planes)
    {
        v = space;
        m = v + (36 * V4Plane);
        dense = m + (36 * M4Plane);
        bordered = dense + (16 * InSpatial) + 16;
        stage = bordered + (16 * Bordered4Height * Bordered4Width);
        planes = stage + (16 * OutSpatial);
    }

    /// <summary>
    /// Samples <paramref name="from"/> to <paramref name="to"/> − 1 by F(4×4), <see cref="Chunk4"/> at a time, their blocks of
    /// output channels <paramref name="firstBlock"/> to <paramref name="endBlock"/> − 1 (all of them, except for one sample
    /// split across the threads by blocks).
    /// </summary>
    private static void Winograd4Range(ForwardWork work, int part, int from, int to, int firstBlock, int endBlock)
    {
        Winograd4Space((float*)work.PartSpaces[part], out var v, out var m, out var dense, out var bordered, out var stage, out var planes);
        ClearBorder4(bordered);
        var cin = TShape.InChannels;
        for (var n = from; n < to; n += Chunk4)
        {
            var count = Math.Min(Chunk4, to - n);
            for (var s = 0; s < count; s++)
            {
                TransformInput4(work.X + ((n + s) * cin * InSpatial), v + (s * Tiles4 * TileStride4), dense, bordered, 0, Tile4Rows);
            }

            Products4(work.U, v, m, count * Tiles4, firstBlock, endBlock);
            for (var s = 0; s < count; s++)
            {
                for (var b = firstBlock; b < endBlock; b++)
                {
                    OutputBlock4(work, m + (((b * Chunk4Rows) + (s * Tiles4)) * 16), n + s, b, stage, planes, 0, Tile4Rows);
                }
            }
        }
    }

    /// <summary>
    /// One sample on several threads (batch 1), split by blocks of output channels: each part transforms the whole input
    /// (4 tiles a channel at 7×7, 16 at 14×14: cheap beside its share of the products).
    /// </summary>
    private static void Winograd4Blocks(ForwardWork work, int part, int parts) =>
        Winograd4Range(work, part, 0, 1, ChannelBlocks * part / parts, ChannelBlocks * (part + 1) / parts);

    /// <summary>
    /// One sample on several threads (batch 1) whose output channels are a single block, split by bands of tile rows: each
    /// part transposes the input rows its tiles read, and transforms, multiplies and stores only its own tiles.
    /// </summary>
    private static void Winograd4Band(ForwardWork work, int part, int parts)
    {
        int firstRow = Tile4Rows * part / parts, endRow = Tile4Rows * (part + 1) / parts;
        if (firstRow >= endRow)
        {
            return;
        }

        Winograd4Space((float*)work.PartSpaces[part], out var v, out var m, out var dense, out var bordered, out var stage, out var planes);
        ClearBorder4(bordered);
        TransformInput4(work.X, v, dense, bordered, firstRow, endRow);
        Products4(work.U, v, m, (endRow - firstRow) * Tile4Columns, 0, ChannelBlocks);
        for (var b = 0; b < ChannelBlocks; b++)
        {
            OutputBlock4(work, m + (b * Chunk4Rows * 16), 0, b, stage, planes, firstRow, endRow);
        }
    }

    /// <summary>
    /// The 36 products <c>M[e] = V[e]·U[e]</c> of <paramref name="tiles"/> tiles for output blocks <paramref name="firstBlock"/>
    /// to <paramref name="endBlock"/> − 1: in runs of <see cref="Run4"/> tiles × 16 channels, or, for fewer than 14 tiles
    /// (one sample at 7×7: 4), in groups of 4 tiles × 3 blocks, so that a short run does not leave the registers idle.
    /// </summary>
    private static void Products4(float* u, float* v, float* m, int tiles, int firstBlock, int endBlock)
    {
        var cin = TShape.InChannels;
        Vector512<float> one = Vector512<float>.One, zero = Vector512<float>.Zero;
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
                            FourTiles(ve + (t * TileStride4), ue + (b * cin * 16), me + (((b * Chunk4Rows) + t) * 16), Math.Min(3, endBlock - b));
                        }
                    }

                    continue;
                }

                var runs = (tiles + Run4 - 1) / Run4;
                for (var r = 0; r < runs; r++)
                {
                    for (var b = firstBlock; b < endBlock; b++)
                    {
                        Run<Winograd4Run>(ve + (r * Run4 * TileStride4), ue + (b * cin * 16), steps, cin, me + (((b * Chunk4Rows) + (r * Run4)) * 16), one, zero, relu: false, skip: -1);
                    }
                }
            }
        }
    }

    /// <summary>
    /// 4 tiles × <paramref name="blocks"/> (1 to 3) blocks of 16 output channels in 12 registers: per input channel, 3 loads of
    /// filters and 4 broadcasts feed 12 multiply-adds (a run of 4 tiles would feed 4 from 5 loads).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FourTiles(float* v, float* u, float* m, int blocks)
    {
        int cin = TShape.InChannels, stride = TileStride4, block = 16 * cin, rows = 16 * Chunk4Rows;
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        for (var ci = 0; ci < cin; ci++)
        {
            Vector512<float> x0 = Vector512.Create(v[ci]), x1 = Vector512.Create(v[stride + ci]), x2 = Vector512.Create(v[(2 * stride) + ci]), x3 = Vector512.Create(v[(3 * stride) + ci]);
            var w = Vector512.Load(u + (16 * ci));
            a00 = Vector512.FusedMultiplyAdd(x0, w, a00);
            a01 = Vector512.FusedMultiplyAdd(x1, w, a01);
            a02 = Vector512.FusedMultiplyAdd(x2, w, a02);
            a03 = Vector512.FusedMultiplyAdd(x3, w, a03);
            if (blocks > 1)
            {
                w = Vector512.Load(u + block + (16 * ci));
                a10 = Vector512.FusedMultiplyAdd(x0, w, a10);
                a11 = Vector512.FusedMultiplyAdd(x1, w, a11);
                a12 = Vector512.FusedMultiplyAdd(x2, w, a12);
                a13 = Vector512.FusedMultiplyAdd(x3, w, a13);
            }

            if (blocks > 2)
            {
                w = Vector512.Load(u + (2 * block) + (16 * ci));
                a20 = Vector512.FusedMultiplyAdd(x0, w, a20);
                a21 = Vector512.FusedMultiplyAdd(x1, w, a21);
                a22 = Vector512.FusedMultiplyAdd(x2, w, a22);
                a23 = Vector512.FusedMultiplyAdd(x3, w, a23);
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

        static void Store(Vector512<float> t0, Vector512<float> t1, Vector512<float> t2, Vector512<float> t3, float* m)
        {
            t0.Store(m);
            t1.Store(m + 16);
            t2.Store(m + 32);
            t3.Store(m + 48);
        }
    }

    /// <summary>Zeroes the bordered block's border: the rows above and below the input and the columns beside it (its interior is rewritten per block).</summary>
    private static void ClearBorder4(float* bordered)
    {
        int bw = Bordered4Width, pad = TShape.Padding, h = TShape.InHeight, wd = TShape.InWidth;
        new Span<float>(bordered, 16 * pad * bw).Clear();
        for (var y = pad; y < pad + h; y++)
        {
            var row = bordered + (16 * y * bw);
            new Span<float>(row, 16 * pad).Clear();
            new Span<float>(row + (16 * (pad + wd)), 16 * (bw - pad - wd)).Clear();
        }

        new Span<float>(bordered + (16 * (pad + h) * bw), 16 * (Bordered4Height - pad - h) * bw).Clear();
    }

    /// <summary>
    /// One sample's <c>V[e][tile][ci] = (Bᵀ·d·B)[e]</c> for its tile rows <paramref name="firstRow"/> to <paramref name="endRow"/> − 1
    /// into <paramref name="v"/> (their first tile): per block of 16 input channels, the rows they read transposed
    /// pixel-major into <paramref name="dense"/>, copied inside the border, then each tile.
    /// </summary>
    private static void TransformInput4(float* input, float* v, float* dense, float* bordered, int firstRow, int endRow)
    {
        int bw = Bordered4Width, pad = TShape.Padding, wd = TShape.InWidth, tc = Tile4Columns, stride = TileStride4, plane = V4Plane;

        // The input rows the band's tiles read (all of them unless one sample is split by bands).
        int top = Math.Max(0, (4 * firstRow) - pad), bottom = Math.Min(TShape.InHeight, (4 * endRow) + 2 - pad);
        var rows = stackalloc float[36 * 16];
        for (var b = 0; b < InBlocks; b++)
        {
            var channels = Math.Min(16, TShape.InChannels - (16 * b));
            Transpose.Matrix(input + (16 * b * InSpatial) + (top * wd), channels, (bottom - top) * wd, InSpatial, dense + (16 * top * wd), 16);
            for (var y = top; y < bottom; y++)
            {
                new ReadOnlySpan<float>(dense + (16 * y * wd), 16 * wd).CopyTo(new Span<float>(bordered + (16 * (((y + pad) * bw) + pad)), 16 * wd));
            }

            for (var ty = firstRow; ty < endRow; ty++)
            {
                for (var tx = 0; tx < tc; tx++)
                {
                    TileIn(bordered + (16 * ((4 * ty * bw) + (4 * tx))), 16 * bw, rows, v + (((((ty - firstRow) * tc) + tx) * stride) + (16 * b)), plane);
                }
            }
        }

        // Bᵀ down each of the tile's 6 columns into rows (6 × 6 vectors), then along each row into positions e = 6·row + column.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void TileIn(float* origin, int rowStep, float* rows, float* target, int plane)
        {
            for (var j = 0; j < 6; j++)
            {
                var c = origin + (16 * j);
                Bt6(Vector512.Load(c), Vector512.Load(c + rowStep), Vector512.Load(c + (2 * rowStep)), Vector512.Load(c + (3 * rowStep)), Vector512.Load(c + (4 * rowStep)), Vector512.Load(c + (5 * rowStep)), rows + (16 * j), 96);
            }

            for (var k = 0; k < 6; k++)
            {
                var row = rows + (96 * k);
                Bt6(Vector512.Load(row), Vector512.Load(row + 16), Vector512.Load(row + 32), Vector512.Load(row + 48), Vector512.Load(row + 64), Vector512.Load(row + 80), target + (6 * k * plane), plane);
            }
        }

        // Bᵀ = [4, 0, −5, 0, 1, 0; 0, −4, −4, 1, 1, 0; 0, 4, −4, −1, 1, 0; 0, −2, −1, 2, 1, 0; 0, 2, −1, −2, 1, 0; 0, 4, 0, −5, 0, 1].
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Bt6(Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3, Vector512<float> d4, Vector512<float> d5, float* target, int step)
        {
            Vector512<float> four = Vector512.Create(4f), five = Vector512.Create(-5f), two = Vector512.Create(2f);
            Vector512<float> sum12 = d1 + d2, diff12 = d1 - d2, diff31 = d3 - d1, diff42 = d4 - d2;
            Vector512.FusedMultiplyAdd(four, d0, Vector512.FusedMultiplyAdd(five, d2, d4)).Store(target);
            Vector512.FusedMultiplyAdd(-four, sum12, d3 + d4).Store(target + step);
            Vector512.FusedMultiplyAdd(four, diff12, d4 - d3).Store(target + (2 * step));
            Vector512.FusedMultiplyAdd(two, diff31, diff42).Store(target + (3 * step));
            Vector512.FusedMultiplyAdd(-two, diff31, diff42).Store(target + (4 * step));
            Vector512.FusedMultiplyAdd(four, d1, Vector512.FusedMultiplyAdd(five, d3, d5)).Store(target + (5 * step));
        }
    }

    /// <summary>
    /// Output block <paramref name="block"/> of sample <paramref name="n"/>: <c>Y = Aᵀ·M·A</c> for each of its tiles (from
    /// <paramref name="m"/>, the block's first tile of the sample), with the fused scale and shift, into the stage (16
    /// floats a pixel, pixels past the output's edge dropped), then transposed into the output planes.
    /// </summary>
    private static void OutputBlock4(ForwardWork work, float* m, int n, int block, float* stage, float* planes, int firstRow, int endRow)
    {
        int tc = Tile4Columns, ow = TShape.OutWidth, oh = TShape.OutHeight, plane = M4Plane;
        var inRegisters = work.Residual == null && !work.Accumulate;
        var relu = inRegisters && work.Relu;
        Vector512<float> scale = Vector512<float>.One, shift = Vector512<float>.Zero;
        if (!work.Accumulate)
        {
            scale = Vector512.Create(work.BlockScale.AsSpan(16 * block, 16));
            shift = Vector512.Create(work.BlockShift.AsSpan(16 * block, 16));
        }

        var columns = stackalloc float[24 * 16];
        for (var ty = firstRow; ty < endRow; ty++)
        {
            for (var tx = 0; tx < tc; tx++)
            {
                var tile = m + (16 * (((ty - firstRow) * tc) + tx));

                // Aᵀ along each of the 6 rows of M (into 4 columns), then down each column into the tile's 4 output rows.
                for (var k = 0; k < 6; k++)
                {
                    var row = tile + (6 * k * plane);
                    At6(Vector512.Load(row), Vector512.Load(row + plane), Vector512.Load(row + (2 * plane)), Vector512.Load(row + (3 * plane)), Vector512.Load(row + (4 * plane)), Vector512.Load(row + (5 * plane)), out var c0, out var c1, out var c2, out var c3);
                    var at = columns + (16 * k);
                    c0.Store(at);
                    c1.Store(at + 96);
                    c2.Store(at + 192);
                    c3.Store(at + 288);
                }

                for (var c = 0; c < 4 && (4 * tx) + c < ow; c++)
                {
                    var column = columns + (96 * c);
                    At6(Vector512.Load(column), Vector512.Load(column + 16), Vector512.Load(column + 32), Vector512.Load(column + 48), Vector512.Load(column + 64), Vector512.Load(column + 80), out var o0, out var o1, out var o2, out var o3);
                    var pixel = stage + (16 * ((4 * ty * ow) + (4 * tx) + c));
                    var rows = Math.Min(4, oh - (4 * ty));
                    Store(o0, scale, shift, relu, pixel);
                    if (rows > 1)
                    {
                        Store(o1, scale, shift, relu, pixel + (16 * ow));
                    }

                    if (rows > 2)
                    {
                        Store(o2, scale, shift, relu, pixel + (32 * ow));
                    }

                    if (rows > 3)
                    {
                        Store(o3, scale, shift, relu, pixel + (48 * ow));
                    }
                }
            }
        }

        // The stage's rows (pixels) of the band's output rows become the planes' columns: stored, or added onto the output
        // for the input gradient.
        var channels = Math.Min(16, TShape.OutChannels - (16 * block));
        int from = 4 * firstRow * ow, length = (Math.Min(4 * endRow, oh) * ow) - from;
        var first = work.Y + (((n * TShape.OutChannels) + (16 * block)) * OutSpatial) + from;
        if (work.Accumulate)
        {
            Transpose.Matrix(stage + (16 * from), length, channels, 16, planes, OutSpatial);
            for (var c = 0; c < channels; c++)
            {
                var run = new Span<float>(first + (c * OutSpatial), length);
                System.Numerics.Tensors.TensorPrimitives.Add(run, new ReadOnlySpan<float>(planes + (c * OutSpatial), length), run);
            }

            return;
        }

        Transpose.Matrix(stage + (16 * from), length, channels, 16, first, OutSpatial);
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
        static void At6(Vector512<float> m0, Vector512<float> m1, Vector512<float> m2, Vector512<float> m3, Vector512<float> m4, Vector512<float> m5, out Vector512<float> o0, out Vector512<float> o1, out Vector512<float> o2, out Vector512<float> o3)
        {
            Vector512<float> sum12 = m1 + m2, diff12 = m1 - m2, sum34 = m3 + m4, diff34 = m3 - m4;
            o0 = m0 + sum12 + sum34;
            o1 = Vector512.FusedMultiplyAdd(Vector512.Create(2f), diff34, diff12);
            o2 = Vector512.FusedMultiplyAdd(Vector512.Create(4f), sum34, sum12);
            o3 = Vector512.FusedMultiplyAdd(Vector512.Create(8f), diff34, diff12) + m5;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Store(Vector512<float> value, Vector512<float> scale, Vector512<float> shift, bool relu, float* target)
        {
            var r = Vector512.FusedMultiplyAdd(value, scale, shift);
            (relu ? Vector512.Max(r, Vector512<float>.Zero) : r).Store(target);
        }
    }

    /// <summary>The products' run: tiles <see cref="TileStride4"/> floats apart in the transformed input, 16 floats apart in the products.</summary>
    private readonly struct Winograd4Run : IRunOffsets
    {
        public static int Positions => Run4;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Source(int p) => p * TileStride4;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Target(int p) => p * 16;
    }
}
