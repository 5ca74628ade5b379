using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using PruneGen.Model;

namespace PruneGen.Kernels;

/// <summary>
/// Winograd F(2×2, 3×3) for the stride-1 3×3 convolutions: each 2×2 block of outputs ("tile") comes from a 4×4 block of
/// the bordered input. With <c>U = G·g·Gᵀ</c> (each 3×3 filter made 4×4) and <c>V = Bᵀ·d·B</c> (each input tile made 4×4),
/// the 16 positions e of a tile are 16 independent products <c>M[e] = U[e] · V[e]</c>, (Cout × Cin)·(Cin × tiles), and
/// <c>Y = Aᵀ·M·A</c> turns each tile back into 2×2 outputs. The products take 16·Cout·Cin multiply-adds per tile against
/// 36·Cout·Cin for the direct method (2.25× fewer; 1.7× at 7×7, whose tiles cover 8×8). The transforms add and subtract
/// only, so the result differs from the direct sum by rounding alone.
/// </summary>
/// <remarks>
/// <para>
/// Used on AVX-512 (the tile transforms gather every other column with its two-source permutes) for layers of at least
/// <see cref="WinogradMinInChannels"/> input channels where F(4×4, 3×3) does not pay (<see cref="Winograd4Pays"/>: few or
/// odd channel counts that fill its 16-channel lanes poorly), and for one sample of F(4×4)'s shapes split by tile rows
/// where it has a single output block and fewer tile rows than threads: for several samples, split across the threads by samples; for
/// one sample of at least <see cref="WinogradSingleSampleTiles"/> tiles, split across the threads by bands of tile rows
/// (<see cref="WinogradTileRows"/>); for one sample of at least <see cref="WinogradOneThreadTiles"/> tiles, split by
/// output channels (<see cref="WinogradChannels"/>: VggNet's 7×7 layers on two threads, 64→128 46.6 → 40.3 µs and
/// 128→128 90.4 → 76–82 µs against the implicit product split the same way; when the filters were transformed on every
/// call this split lost to the implicit product). Smaller single samples keep the implicit product.
/// </para>
/// <para>
/// The transforms run on 16 tiles per vector in tile order: a tile row of 8 or more tiles 16 at a time, narrower rows
/// several to a vector (<see cref="PackedRows"/>: 2 at 14×14, 4 at 7×7), and the inverse transform over the tiles in
/// order whatever the row width. The products are where most of the time goes. The transformed filters are kept per
/// layer and calling thread, and made again only when the weights differ from the ones they were made from
/// (<see cref="WinogradFilters"/>: 16/9 of the weights plus their copy, about 3 MB for VggNet). The other buffers
/// (transformed inputs and products, bordered input, one output plane) are not part of the network's scratch either:
/// they belong to the calling thread (<see cref="WinogradWorkspace"/>), are shared by all its layers and grow to the
/// largest layer during warm-up: about 10 MB for VggNet's inference with two threads (4.4 MB per thread for its 128→128
/// layer at 7×7, which multiplies 16 samples at once), about 12 MB when it trains (the weight gradient's buffers for
/// that layer take 5.5 MB per thread).
/// </para>
/// </remarks>
public static unsafe partial class Conv2DKernel<TShape>
{
    /// <summary>
    /// Whether this layer's shape takes the Winograd path: stride-1, ungrouped 3×3 with at least
    /// <see cref="WinogradMinInChannels"/> input channels, on AVX-512 (F(2×2) or F(4×4)), or with 256-bit vectors where
    /// F(4×4) in 8 lanes beats the implicit product (<see cref="Winograd4Pays"/>).
    /// </summary>
    internal static bool WinogradShape =>
        TShape.Kernel == 3 && TShape.Stride == 1 && TShape.Groups == 1 && TShape.InChannels >= WinogradMinInChannels
        && (Winograd2Available || (Simd.Level == SimdLevel.Vector256 && Avx2.IsSupported && Fma.IsSupported && Winograd4Pays));

    /// <summary>Whether F(2×2) can run: it puts 16 tiles in a vector and gathers columns with AVX-512's two-source permutes.</summary>
    private static bool Winograd2Available => Simd.Level == SimdLevel.Vector512 && Avx512F.IsSupported && Avx2.IsSupported;

    /// <summary>
    /// Fewest input channels for Winograd. Each output channel's inverse transform costs the same whatever Cin is, while
    /// the multiply-adds it saves grow with Cin, so a first layer on a grey image loses: measured one thread (probe of
    /// this kernel with and without the path), 1→32 at 28² 10 µs direct vs 18 Winograd at batch 1, 630 vs 1 300 µs at
    /// batch 64; 2→32 0.6–0.7×, 4→32 0.9–1.0×, 6→32 1.14×, 8→8 1.04–1.10×, 11→11 1.19–1.24×, 16→16 1.3–1.5× (Winograd's
    /// speed-up). At 14² 8→16 still lost (0.76–0.97×); 8 is where 28² layers start to win.
    /// </summary>
    private const int WinogradMinInChannels = 8;

    /// <summary>Tile rows and columns per sample (the output rounded up to even sizes).</summary>
    private static int TileRows => (TShape.OutHeight + 1) / 2;

    private static int TileColumns => (TShape.OutWidth + 1) / 2;

    private static int TilesPerSample => TileRows * TileColumns;

    /// <summary>Samples whose tiles one set of 16 products covers side by side: at least 256 columns, to keep the products long.</summary>
    private static int WinogradSamples => Math.Max(1, (256 + TilesPerSample - 1) / TilesPerSample);

    /// <summary>Columns of a product (the tiles of <see cref="WinogradSamples"/> samples, rounded up to whole vectors).</summary>
    private static int ProductColumns => LayerNode.AlignColumns(WinogradSamples * TilesPerSample);

    /// <summary>
    /// Row stride of the transformed input: a tile row's 16-lane stores run up to 15 tiles past the row's last tile (into
    /// the next tile row, stored after it), so each row keeps 16 columns of slack after the product's columns.
    /// </summary>
    private static int TransformedStride => ProductColumns + 16;

    /// <summary>Rows and columns of one bordered plane: every tile's 4×4 input, the zero border included.</summary>
    private static int WinogradPlaneHeight => (2 * TileRows) + 2;

    private static int WinogradPlaneWidth => (2 * TileColumns) + 2;

    /// <summary>
    /// Floats of one half of the staged output: the even output rows (then, in the other half, the odd ones), two
    /// columns per tile in tile order, so row ty of a half is output row 2ty (or 2ty + 1), 2·TileColumns wide; the inverse
    /// transform stores whole groups of 16 tiles.
    /// </summary>
    private static int StageHalf => 2 * ((TilesPerSample + 15) & ~15);

    /// <summary>
    /// Floats from one position e's transformed input to the next. The 16 positions are written (and the products read) side
    /// by side, so their planes must not lie a multiple of 4 KiB apart, which would put all 16 streams in one L1 set: a
    /// plane of 32 × 416 floats is 13 × 4 KiB, and transforming the input took 3× as long as it does with the planes
    /// staggered by 2 cache lines each.
    /// </summary>
    private static int TransformedPlane => Stagger(TShape.InChannels * TransformedStride);

    /// <summary>Floats from one position e's products to the next (staggered like <see cref="TransformedPlane"/>).</summary>
    private static int ProductPlane => Stagger(TShape.OutChannels * ProductColumns);

    /// <summary><paramref name="floats"/> rounded up to a whole number of 1 KiB blocks, plus 2 cache lines.</summary>
    private static int Stagger(int floats) => ((floats + 255) & ~255) + 32;

    /// <summary>Floats from one position e's transformed filters to the next (staggered like <see cref="TransformedPlane"/>).</summary>
    private static int WeightPlane => Stagger(TShape.OutChannels * TShape.InChannels);

    private static int TransformedLength => 16 * TransformedPlane;

    private static int ProductLength => (16 * ProductPlane) + 16;

    private static int WinogradBorderedLength => (TShape.InChannels * WinogradPlaneHeight * WinogradPlaneWidth) + 64;

    private static int StageLength => (2 * StageHalf) + 16;

    private static int WinogradPartLength => TransformedLength + ProductLength + WinogradBorderedLength + StageLength;

    /// <summary>
    /// Transforms every filter: <c>U[e][co][ci] = (G·g·Gᵀ)[e]</c> for <c>g = W[co, ci]</c> (3×3), 16 filters per vector
    /// (gathered, 9 floats apart).
    /// </summary>
    private static void TransformWeights(float* weight, float* u)
    {
        int plane = WeightPlane, end = TShape.OutChannels * TShape.InChannels;
        var pair = 0;
        for (; pair + 16 <= end; pair += 16)
        {
            var g = weight + (pair * 9);
            Transform(
                Tap(g), Tap(g + 1), Tap(g + 2),
                Tap(g + 3), Tap(g + 4), Tap(g + 5),
                Tap(g + 6), Tap(g + 7), Tap(g + 8),
                u + pair,
                plane,
                16);
        }

        for (; pair < end; pair++)
        {
            var g = weight + (pair * 9);
            Transform(
                Vector512.CreateScalar(g[0]), Vector512.CreateScalar(g[1]), Vector512.CreateScalar(g[2]),
                Vector512.CreateScalar(g[3]), Vector512.CreateScalar(g[4]), Vector512.CreateScalar(g[5]),
                Vector512.CreateScalar(g[6]), Vector512.CreateScalar(g[7]), Vector512.CreateScalar(g[8]),
                u + pair,
                plane,
                1);
        }

        static void Transform(
            Vector512<float> g00, Vector512<float> g01, Vector512<float> g02,
            Vector512<float> g10, Vector512<float> g11, Vector512<float> g12,
            Vector512<float> g20, Vector512<float> g21, Vector512<float> g22,
            float* target,
            int plane,
            int lanes)
        {
            // G along each filter row (kh): [a, (a + b + c)/2, (a − b + c)/2, c]; then down each of the 4 columns.
            var half = Vector512.Create(0.5f);
            Vector512<float> h00 = g00, h01 = half * (g00 + g01 + g02), h02 = half * (g00 - g01 + g02), h03 = g02;
            Vector512<float> h10 = g10, h11 = half * (g10 + g11 + g12), h12 = half * (g10 - g11 + g12), h13 = g12;
            Vector512<float> h20 = g20, h21 = half * (g20 + g21 + g22), h22 = half * (g20 - g21 + g22), h23 = g22;
            Column(h00, h10, h20, target, plane, lanes);
            Column(h01, h11, h21, target + plane, plane, lanes);
            Column(h02, h12, h22, target + (2 * plane), plane, lanes);
            Column(h03, h13, h23, target + (3 * plane), plane, lanes);
        }

        // Column j of the row-transformed filter to positions e = j, 4 + j, 8 + j, 12 + j.
        static void Column(Vector512<float> a, Vector512<float> b, Vector512<float> c, float* target, int plane, int lanes)
        {
            var half = Vector512.Create(0.5f);
            Put(a, target, lanes);
            Put(half * (a + b + c), target + (4 * plane), lanes);
            Put(half * (a - b + c), target + (8 * plane), lanes);
            Put(c, target + (12 * plane), lanes);
        }

        static void Put(Vector512<float> value, float* target, int lanes)
        {
            if (lanes == 16)
            {
                value.Store(target);
            }
            else
            {
                *target = value.ToScalar();
            }
        }
    }

    /// <summary>The same tap of 16 consecutive 3×3 filters (two 8-lane gathers, 9 floats apart).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Tap(float* tap) =>
        Vector512.Create(Avx2.GatherVector256(tap, NineApart, 4), Avx2.GatherVector256(tap + 72, NineApart, 4));

    private static readonly Vector256<int> NineApart = Vector256.Create(0, 9, 18, 27, 36, 45, 54, 63);

    /// <summary>
    /// Tile rows whose tiles one vector of the input transform covers: as many as fit in 16 lanes when a tile row's input
    /// (2·TileColumns + 2 floats) fits in one vector (up to 7 tiles per row: 2 rows at 14×14, 4 at 7×7), else 1, and
    /// then a row of 8 or more tiles is covered 16 tiles at a time. One vector per tile row left 9 of 16 lanes idle at
    /// 14×14 and 12 at 7×7.
    /// </summary>
    private static readonly int PackedRows = Packed ? Math.Min(TileRows, 16 / TileColumns) : 1;

    /// <summary>Whether the input transform packs tile rows (a tile row's input fits in one vector).</summary>
    private static bool Packed => TileColumns <= 7;

    /// <summary>
    /// For packed rows (see <see cref="PackedRows"/>): the two-source permute that gathers column 2t + j of tile t of rows
    /// 2p and 2p + 1 of a pack (lanes (2p)·TileColumns + t from the first vector, the next row's from the second), at
    /// index 4p + j, and in <see cref="PackedLanes"/> the lanes each pair fills.
    /// </summary>
    private static readonly Vector512<int>[] PackedIndex = CreatePackedIndex(out PackedLanes);

    private static readonly Vector512<float>[] PackedLanes;

    private static Vector512<int>[] CreatePackedIndex(out Vector512<float>[] lanes)
    {
        var pairs = (PackedRows + 1) / 2;
        var index = new Vector512<int>[4 * pairs];
        lanes = new Vector512<float>[pairs];
        var tw = TileColumns;
        for (var p = 0; p < pairs; p++)
        {
            var mask = new int[16];
            for (var j = 0; j < 4; j++)
            {
                var lane = new int[16];
                for (var l = 0; l < Math.Min(16, PackedRows * tw); l++)
                {
                    int r = l / tw, t = l % tw;
                    if (r == 2 * p || r == (2 * p) + 1)
                    {
                        lane[l] = (r == 2 * p ? 0 : 16) + (2 * t) + j;
                        mask[l] = -1;
                    }
                }

                index[(4 * p) + j] = Vector512.Create(lane);
            }

            lanes[p] = Vector512.Create(mask).AsSingle();
        }

        return index;
    }

    /// <summary>
    /// Transforms sample <paramref name="s"/> of a block: borders its planes, then for every channel and tile of tile rows
    /// <paramref name="firstRow"/> to <paramref name="endRow"/> − 1 (all of them, except when one sample is split across
    /// threads) <c>V[e][ci][tile] = (Bᵀ·d·B)[e]</c>, 16 tiles per vector (of one tile row, or of <see cref="PackedRows"/> rows).
    /// </summary>
    private static void TransformInput(float* input, int s, float* v, float* bordered, int firstRow, int endRow)
    {
        int ph = WinogradPlaneHeight, pw = WinogradPlaneWidth, tw = TileColumns, stride = TransformedStride;
        var borderedEnd = bordered + WinogradBorderedLength;
        Border(input, TShape.InChannels, TShape.InHeight, TShape.InWidth, TShape.Padding, ph, pw, bordered, borderedEnd);
        var channelStride = TransformedPlane;
        for (var ci = 0; ci < TShape.InChannels; ci++)
        {
            var plane = bordered + (ci * ph * pw);
            var row = v + (ci * stride) + (s * TilesPerSample) - (firstRow * tw);
            if (Packed)
            {
                // The 16 lanes hold PackedRows tile rows side by side, in tile order. Lanes past the pack's tiles hold zeros
                // (or, in a short last pack, repeats of its last row): they land in the next pack's or sample's columns, which
                // are stored after them, or in the row's slack.
                for (var ty = firstRow; ty < endRow; ty += PackedRows)
                {
                    PackedRow(plane, ty, 0, pw, out var t00, out var t01, out var t02, out var t03);
                    PackedRow(plane, ty, 1, pw, out var t10, out var t11, out var t12, out var t13);
                    PackedRow(plane, ty, 2, pw, out var t20, out var t21, out var t22, out var t23);
                    PackedRow(plane, ty, 3, pw, out var t30, out var t31, out var t32, out var t33);
                    Columns(t00, t01, t02, t03, t10, t11, t12, t13, t20, t21, t22, t23, t30, t31, t32, t33, row + (ty * tw), channelStride);
                }

                continue;
            }

            for (var ty = firstRow; ty < endRow; ty++)
            {
                var top = plane + (2 * ty * pw);
                for (var tx = 0; tx < tw; tx += 16)
                {
                    // t[i][j]: input row i of the 16 tiles after Bᵀ along the row (j).
                    Row(top + (2 * tx), out var t00, out var t01, out var t02, out var t03);
                    Row(top + pw + (2 * tx), out var t10, out var t11, out var t12, out var t13);
                    Row(top + (2 * pw) + (2 * tx), out var t20, out var t21, out var t22, out var t23);
                    Row(top + (3 * pw) + (2 * tx), out var t30, out var t31, out var t32, out var t33);
                    Columns(t00, t01, t02, t03, t10, t11, t12, t13, t20, t21, t22, t23, t30, t31, t32, t33, row + (ty * tw) + tx, channelStride);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Row(float* p, out Vector512<float> j0, out Vector512<float> j1, out Vector512<float> j2, out Vector512<float> j3)
        {
            // Columns 2t, 2t+1, 2t+2, 2t+3 of the 16 tiles t.
            Vector512<float> a = Vector512.Load(p), b = Vector512.Load(p + 16), c = Vector512.Load(p + 2), d = Vector512.Load(p + 18);
            Bt(Avx512F.PermuteVar16x32x2(a, Simd.EvenLanes, b), Avx512F.PermuteVar16x32x2(a, Simd.OddLanes, b), Avx512F.PermuteVar16x32x2(c, Simd.EvenLanes, d), Avx512F.PermuteVar16x32x2(c, Simd.OddLanes, d), out j0, out j1, out j2, out j3);
        }

        // Input row i of the tiles of tile rows ty … ty + PackedRows − 1: each pair of tile rows by one permute of their two
        // input rows (one vector each, a row is at most 16 floats), the pairs merged by their lanes.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void PackedRow(float* plane, int ty, int i, int pw, out Vector512<float> j0, out Vector512<float> j1, out Vector512<float> j2, out Vector512<float> j3)
        {
            var last = TileRows - 1;
            Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default;
            for (var p = 0; p < PackedLanes.Length; p++)
            {
                int first = Math.Min(ty + (2 * p), last), second = Math.Min(ty + (2 * p) + 1, last);
                Vector512<float> a = Vector512.Load(plane + (((2 * first) + i) * pw)), b = Vector512.Load(plane + (((2 * second) + i) * pw));
                var lanes = PackedLanes[p];
                d0 = Vector512.ConditionalSelect(lanes, Avx512F.PermuteVar16x32x2(a, PackedIndex[4 * p], b), d0);
                d1 = Vector512.ConditionalSelect(lanes, Avx512F.PermuteVar16x32x2(a, PackedIndex[(4 * p) + 1], b), d1);
                d2 = Vector512.ConditionalSelect(lanes, Avx512F.PermuteVar16x32x2(a, PackedIndex[(4 * p) + 2], b), d2);
                d3 = Vector512.ConditionalSelect(lanes, Avx512F.PermuteVar16x32x2(a, PackedIndex[(4 * p) + 3], b), d3);
            }

            Bt(d0, d1, d2, d3, out j0, out j1, out j2, out j3);
        }

        // Bᵀ along a row of 4 input columns.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Bt(Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3, out Vector512<float> j0, out Vector512<float> j1, out Vector512<float> j2, out Vector512<float> j3)
        {
            j0 = d0 - d2;
            j1 = d1 + d2;
            j2 = d2 - d1;
            j3 = d1 - d3;
        }

        // Bᵀ down the columns of the row-transformed t[i][j], stored at positions e = 4·i + j.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Columns(
            Vector512<float> t00, Vector512<float> t01, Vector512<float> t02, Vector512<float> t03,
            Vector512<float> t10, Vector512<float> t11, Vector512<float> t12, Vector512<float> t13,
            Vector512<float> t20, Vector512<float> t21, Vector512<float> t22, Vector512<float> t23,
            Vector512<float> t30, Vector512<float> t31, Vector512<float> t32, Vector512<float> t33,
            float* target,
            int step)
        {
            Store(t00 - t20, t01 - t21, t02 - t22, t03 - t23, target, step);
            Store(t10 + t20, t11 + t21, t12 + t22, t13 + t23, target + (4 * step), step);
            Store(t20 - t10, t21 - t11, t22 - t12, t23 - t13, target + (8 * step), step);
            Store(t10 - t30, t11 - t31, t12 - t32, t13 - t33, target + (12 * step), step);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Store(Vector512<float> e0, Vector512<float> e1, Vector512<float> e2, Vector512<float> e3, float* target, int step)
        {
            e0.Store(target);
            e1.Store(target + step);
            e2.Store(target + (2 * step));
            e3.Store(target + (3 * step));
        }
    }

    /// <summary>
    /// Output channel <paramref name="co"/> of sample <paramref name="s"/> of a block: <c>Y = Aᵀ·M·A</c> for 16 tiles at a
    /// time in tile order (the tiles of several tile rows share a vector when a row has fewer than 16), into the staged
    /// rows, then each output row into <paramref name="output"/> and the fused store over the plane.
    /// </summary>
    private static void TransformOutput(ForwardWork work, float* m, int s, int co, float* stage, float* output, float* residual, int firstRow, int endRow)
    {
        int tiles = (endRow - firstRow) * TileColumns, step = ProductPlane;
        var channel = m + (co * ProductColumns) + (s * TilesPerSample);
        var odd = stage + StageHalf;

        // Without a residual the fused store (scale, shift, ReLU) is applied to the transformed vectors, so the plane is
        // written once; a residual is added after the plane is in place (its layout is the output's, not the stage's).
        var inRegisters = residual == null && !work.Accumulate;
        Vector512<float> scale = Vector512.Create(inRegisters ? work.ScaleData[co] : 1f), shift = Vector512.Create(inRegisters ? work.ShiftData[co] : 0f);
        var relu = inRegisters && work.Relu;

        // The last group reads up to 15 columns past the sample's tiles (the next sample's, the product's padding or the
        // planes' slack) and stages their results past the plane's rows, where nothing reads them.
        for (var q = 0; q < tiles; q += 16)
        {
            var p = channel + q;

            // Aᵀ along each row i of M: a_i0 = M_i0 + M_i1 + M_i2, a_i1 = M_i1 − M_i2 − M_i3.
            Row(p, step, out var a00, out var a01);
            Row(p + (4 * step), step, out var a10, out var a11);
            Row(p + (8 * step), step, out var a20, out var a21);
            Row(p + (12 * step), step, out var a30, out var a31);

            // Then down the columns: the even output row from a0 + a1 + a2, the odd one from a1 − a2 − a3.
            Interleave(Store(a00 + a10 + a20, scale, shift, relu), Store(a01 + a11 + a21, scale, shift, relu), stage + (2 * q));
            Interleave(Store(a10 - a20 - a30, scale, shift, relu), Store(a11 - a21 - a31, scale, shift, relu), odd + (2 * q));
        }

        // Output rows 2·firstRow to 2·endRow − 1 (within the plane); only they are written, since the other rows of a split
        // sample are another thread's.
        int ow = TShape.OutWidth, sw = 2 * TileColumns, top = 2 * firstRow, bottom = Math.Min(2 * endRow, TShape.OutHeight);
        if (work.Accumulate)
        {
            // Added onto the output; the last row without writing past it (the next sample may be another thread's).
            for (var y = top; y < bottom; y++)
            {
                var row = (y % 2 == 0 ? stage : odd) + ((y - top) / 2 * sw);
                if (y < bottom - 1)
                {
                    AddRun(row, output + (y * ow), ow);
                }
                else
                {
                    var run = new Span<float>(output + (y * ow), ow);
                    System.Numerics.Tensors.TensorPrimitives.Add(run, new ReadOnlySpan<float>(row, ow), run);
                }
            }

            return;
        }

        // Each output row from its half of the stage, in order (a row's vectors may run into the next, stored after it):
        // copied when the store was applied in registers, else stored with the residual in the same pass.
        var stageEnd = stage + StageLength;
        var outputEnd = output + (bottom * ow);
        for (var y = top; y < bottom; y++)
        {
            var from = (y % 2 == 0 ? stage : odd) + ((y - top) / 2 * sw);
            if (inRegisters)
            {
                CopyRun(from, output + (y * ow), ow, stageEnd, outputEnd);
            }
            else
            {
                Epilogue.Run(from, output + (y * ow), residual + (y * ow), ow, work.ScaleData[co], work.ShiftData[co], work.Relu, outputEnd);
            }
        }

        // The fused store on 16 outputs, as Epilogue computes it: v·scale + shift, then ReLU.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Vector512<float> Store(Vector512<float> v, Vector512<float> scale, Vector512<float> shift, bool relu)
        {
            var r = Vector512.FusedMultiplyAdd(v, scale, shift);
            return relu ? Vector512.Max(r, Vector512<float>.Zero) : r;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Row(float* p, int step, out Vector512<float> first, out Vector512<float> second)
        {
            Vector512<float> m0 = Vector512.Load(p), m1 = Vector512.Load(p + step), m2 = Vector512.Load(p + (2 * step)), m3 = Vector512.Load(p + (3 * step));
            first = m0 + m1 + m2;
            second = m1 - m2 - m3;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Interleave(Vector512<float> even, Vector512<float> odd, float* target)
        {
            Avx512F.PermuteVar16x32x2(even, Simd.InterleaveLow, odd).Store(target);
            Avx512F.PermuteVar16x32x2(even, Simd.InterleaveHigh, odd).Store(target + 16);
        }
    }

    /// <summary>
    /// <c>y += conv(x)</c> by the Winograd path for <paramref name="batch"/> samples (no bias, nothing fused), split by samples
    /// across the threads: the input gradient of a stride-1 3×3 layer, run as this (transposed) shape's forward on the
    /// flipped weights (see <see cref="GradientConv{TShape}"/>).
    /// </summary>
    internal static void WinogradAccumulate(float* x, float* weight, float* y, int batch)
    {
        var work = t_forward ??= new ForwardWork();
        work.X = x;
        work.W = weight;
        work.Y = y;
        work.Residual = null;
        work.Relu = false;
        work.Batch = batch;
        work.SplitChannels = false;
        work.SplitTiles = false;
        work.Winograd = true;
        work.Broadcast = false;
        work.Accumulate = true;
        var parts = Math.Min(batch, WorkerPool.Workers);
        work.Winograd4 = Winograd4Pays;
        WinogradPrepare(work, parts);
        WorkerPool.Run(work, parts);
    }

    /// <summary>Part <paramref name="part"/>'s Winograd workspace, in order: transformed inputs, products, bordered input, staged plane.</summary>
    private static void WinogradSpace(ForwardWork work, int part, out float* v, out float* m, out float* bordered, out float* stage)
    {
        v = (float*)work.PartSpaces[part];
        m = v + TransformedLength;
        bordered = m + ProductLength;
        stage = bordered + WinogradBorderedLength;
    }

    /// <summary>
    /// Fewest tiles per sample for which one sample takes the Winograd path on several threads (7×7 tiles, a 14×14 output),
    /// and in the backward pass, whose filters change every step. Measured one thread, batch 1 (`convs`): 64→64 @14²
    /// 150 → 124 µs, 32→32 @28² 140 → 105 µs, but 128→128 @7² (4×4 tiles) 170 → 280 µs while the filters were transformed
    /// on every call: 16 columns make short products and 3 of 4 lanes of each tile transform are idle.
    /// </summary>
    private const int WinogradSingleSampleTiles = 49;

    /// <summary>
    /// Fewest tiles for one sample in the forward pass, where the transformed filters are kept between calls
    /// (<see cref="WinogradFilters"/>): VggNet's 7×7 layers, one thread, batch 1 (probe of this kernel), 64→128 88 → 67 µs
    /// and 128→128 170 → 127 µs. On several threads, a sample of fewer than <see cref="WinogradSingleSampleTiles"/> tiles
    /// (4×4 tiles are a single band of tile rows) is split by output channels instead (<see cref="WinogradChannels"/>).
    /// </summary>
    private const int WinogradOneThreadTiles = 16;

    /// <summary>Whether one sample of this shape has enough tiles for the Winograd path (on one thread).</summary>
    internal static bool WinogradSingleSample => TilesPerSample >= WinogradSingleSampleTiles;

    /// <summary>Whether one sample's forward pass takes the Winograd path.</summary>
    private static bool WinogradForwardSingleSample => TilesPerSample >= WinogradOneThreadTiles;

    /// <summary>
    /// Before the parts run: rent the calling thread's buffers and find the transformed filters, which every part reads —
    /// F(4×4)'s (<see cref="Winograd4Prepare"/>) when <c>work.Winograd4</c> is set.
    /// </summary>
    private static void WinogradPrepare(ForwardWork work, int parts)
    {
        if (work.Winograd4)
        {
            Winograd4Prepare(work, parts);
            return;
        }

        // The calling thread's buffers, shared by every layer it runs (so they stay in cache from layer to layer).
        for (var p = 0; p < WorkerPool.Workers; p++)
        {
            work.PartSpaces[p] = (nint)WinogradWorkspace.Rent(p, WinogradPartLength);
        }

        work.U = (t_filters ??= new WinogradFilters(16 * WeightPlane, &TransformWeights)).For(work.W);
    }

    [ThreadStatic]
    private static WinogradFilters? t_filters;

    /// <summary>
    /// This layer's transformed filters on the calling thread, with a copy of the weights they were made from. A call whose
    /// weights equal the copy, bit for bit, reuses them; any other call transforms its weights and keeps them. There is no
    /// "weights changed" signal to rely on (the weights are a plain array anyone may write), and comparing costs far less
    /// than transforming: one thread, 64→64 weights compared in about 3 µs against 32 µs to transform them, a third of
    /// the layer at batch 1 and the part the threads cannot split. Training changes the weights every step, so there the
    /// comparison stops at the first weight and the filters are transformed as before.
    /// </summary>
    private sealed class WinogradFilters(int length, delegate*<float*, float*, void> transform)
    {
        // Both start zeroed, and zero weights transform to zero filters, so the pair is consistent before the first call.
        private readonly float[] _weights = new float[TShape.OutChannels * TShape.InChannels * 9];
        private readonly float[] _filters = GC.AllocateArray<float>(length, pinned: true);

        public float* For(float* weight)
        {
            var current = new ReadOnlySpan<int>(weight, _weights.Length);
            var filters = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_filters));
            if (!current.SequenceEqual(MemoryMarshal.Cast<float, int>(_weights.AsSpan())))
            {
                current.CopyTo(MemoryMarshal.Cast<float, int>(_weights.AsSpan()));
                transform(weight, filters);
            }

            return filters;
        }
    }

    /// <summary>Samples <paramref name="from"/> to <paramref name="to"/> − 1 by the Winograd path, <see cref="WinogradSamples"/> at a time.</summary>
    private static void WinogradSamplesRange(ForwardWork work, int part, int from, int to)
    {
        WinogradSpace(work, part, out var v, out var m, out var bordered, out var stage);
        int cin = TShape.InChannels, cout = TShape.OutChannels;
        for (var n = from; n < to; n += WinogradSamples)
        {
            var count = Math.Min(WinogradSamples, to - n);
            for (var s = 0; s < count; s++)
            {
                TransformInput(work.X + ((n + s) * cin * InSpatial), s, v, bordered, 0, TileRows);
            }

            var columns = LayerNode.AlignColumns(count * TilesPerSample);
            for (var e = 0; e < 16; e++)
            {
                Gemm.MultiplyNN(cout, columns, cin, work.U + (e * WeightPlane), cin, v + (e * TransformedPlane), TransformedStride, m + (e * ProductPlane), ProductColumns, accumulate: false);
            }

            for (var s = 0; s < count; s++)
            {
                var sample = (n + s) * cout;
                for (var co = 0; co < cout; co++)
                {
                    var residual = work.Residual == null ? null : work.Residual + ((sample + co) * OutSpatial);
                    TransformOutput(work, m, s, co, stage, work.Y + ((sample + co) * OutSpatial), residual, 0, TileRows);
                }
            }
        }
    }

    /// <summary>
    /// Part <paramref name="part"/> of <paramref name="parts"/> of one sample (batch 1 on several threads): a band of its tile
    /// rows (whole packs of <see cref="PackedRows"/>), each part transforming the input it needs, multiplying its tiles' columns
    /// and storing its output rows. Every part borders the whole input (a copy the size of the input, small beside the
    /// transforms), so the parts share nothing but the transformed filters.
    /// </summary>
    private static void WinogradTileRows(ForwardWork work, int part, int parts)
    {
        WinogradSpace(work, part, out var v, out var m, out var bordered, out var stage);
        int cin = TShape.InChannels, cout = TShape.OutChannels, packs = (TileRows + PackedRows - 1) / PackedRows;
        int firstRow = packs * part / parts * PackedRows, endRow = Math.Min(TileRows, packs * (part + 1) / parts * PackedRows);
        if (firstRow >= endRow)
        {
            return;
        }

        TransformInput(work.X, 0, v, bordered, firstRow, endRow);
        var columns = LayerNode.AlignColumns((endRow - firstRow) * TileColumns);
        for (var e = 0; e < 16; e++)
        {
            Gemm.MultiplyNN(cout, columns, cin, work.U + (e * WeightPlane), cin, v + (e * TransformedPlane), TransformedStride, m + (e * ProductPlane), ProductColumns, accumulate: false);
        }

        for (var co = 0; co < cout; co++)
        {
            var residual = work.Residual == null ? null : work.Residual + (co * OutSpatial);
            TransformOutput(work, m, 0, co, stage, work.Y + (co * OutSpatial), residual, firstRow, endRow);
        }
    }

    /// <summary>
    /// Part <paramref name="part"/> of <paramref name="parts"/> of one sample whose tiles are too few to split by bands
    /// (batch 1 on several threads, a 7×7 output): each part transforms the whole input (16 tiles a channel, cheap beside
    /// the products) and computes its share of the output channels.
    /// </summary>
    private static void WinogradChannels(ForwardWork work, int part, int parts)
    {
        WinogradSpace(work, part, out var v, out var m, out var bordered, out var stage);
        int cin = TShape.InChannels, cout = TShape.OutChannels;
        int first = cout * part / parts, end = cout * (part + 1) / parts;
        if (first >= end)
        {
            return;
        }

        TransformInput(work.X, 0, v, bordered, 0, TileRows);
        var columns = LayerNode.AlignColumns(TilesPerSample);
        for (var e = 0; e < 16; e++)
        {
            // The part's rows of each product land where TransformOutput reads channel co (row co of the plane).
            var plane = m + (e * ProductPlane);
            Gemm.MultiplyNN(end - first, columns, cin, work.U + (e * WeightPlane) + (first * cin), cin, v + (e * TransformedPlane), TransformedStride, plane + (first * ProductColumns), ProductColumns, accumulate: false);
        }

        for (var co = first; co < end; co++)
        {
            var residual = work.Residual == null ? null : work.Residual + (co * OutSpatial);
            TransformOutput(work, m, 0, co, stage, work.Y + (co * OutSpatial), residual, 0, TileRows);
        }
    }
}

/// <summary>
/// The Winograd buffers of the calling thread (also the broadcast path's stages), one per kernel part, each grown to the
/// largest layer that asked for it, so a network's layers share them (allocation happens only while they grow: warm-up).
/// Per calling thread, because two threads may run forward passes at once; the parts of one call run on worker threads
/// but use the buffers their caller rented.
/// </summary>
internal static unsafe class WinogradWorkspace
{
    [ThreadStatic]
    private static float[]?[]? t_buffers;

    /// <summary>Buffer <paramref name="slot"/> (0 … Workers − 1) of the calling thread, at least <paramref name="length"/> floats, pinned.</summary>
    public static float* Rent(int slot, int length)
    {
        var buffers = t_buffers ??= new float[WorkerPool.Workers][];
        var buffer = buffers[slot];
        if (buffer == null || buffer.Length < length)
        {
            buffers[slot] = buffer = GC.AllocateArray<float>(length, pinned: true);
        }

        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
    }
}

/// <summary>
/// The convolution that computes a stride-1 layer's input gradient: the output gradient (Cout × OH × OW) bordered by
/// K − 1 − P and convolved with the flipped, transposed weights gives the input gradient (Cin × H × W).
/// </summary>
/// <typeparam name="TShape">The layer whose input gradient this is.</typeparam>
internal readonly struct GradientConv<TShape> : IConv2DShape
    where TShape : IConv2DShape
{
    public static int InChannels => TShape.OutChannels;

    public static int InHeight => TShape.OutHeight;

    public static int InWidth => TShape.OutWidth;

    public static int OutChannels => TShape.InChannels;

    public static int OutHeight => TShape.InHeight;

    public static int OutWidth => TShape.InWidth;

    public static int Kernel => TShape.Kernel;

    public static int Stride => 1;

    public static int Padding => TShape.Kernel - 1 - TShape.Padding;

    public static int Groups => 1;
}
