using System;
using System.Runtime.CompilerServices;

namespace PruneGen.Kernels;

/// <summary>
/// Single-precision matrix multiplication, register-blocked and generic over the vector width.
/// Two forms cover the forward pass without packing weights:
/// <list type="bullet">
/// <item><see cref="MultiplyNN"/> — <c>C = A·B</c>, vectorized along the columns of B (convolution:
/// weights × im2col columns, where the long dimension is the spatial one).</item>
/// <item><see cref="MultiplyNT"/> — <c>C = A·Bᵀ</c>, vectorized along the shared dimension (dense
/// layers: inputs × weights stored <c>[out, in]</c>, PyTorch's layout).</item>
/// </list>
/// All matrices are row-major with explicit leading dimensions.
/// </summary>
public static unsafe partial class Gemm
{
    /// <summary><c>C[m×n] (+)= A[m×k] · B[k×n]</c>.</summary>
    public static void MultiplyNN(int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        switch (Simd.Level)
        {
            case SimdLevel.Vector512:
                NN<V512>(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
                break;
            case SimdLevel.Vector256:
                NN<V256>(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
                break;
            default:
                NN<V1>(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
                break;
        }
    }

    /// <summary>
    /// <c>C[m×n] (+)= A[m×k] · B[k×n]</c> where row <c>p</c> of B starts at <c>b + rowOffsets[p]</c>: a convolution
    /// multiplies its weights by the input's patches in place (row (c, kh, kw) of the unfolded input is the bordered
    /// input shifted by that tap), with no im2col copy. <paramref name="n"/> may run past a row into what follows it;
    /// the caller keeps those columns readable and discards them.
    /// </summary>
    public static void MultiplyNNIndexed(int m, int n, int k, float* a, int lda, float* b, int* rowOffsets, float* c, int ldc, bool accumulate)
    {
        var rows = new IndexedRows(b, rowOffsets);
        switch (Simd.Level)
        {
            case SimdLevel.Vector512:
                NN<V512, IndexedRows>(m, n, k, a, lda, rows, c, ldc, accumulate);
                break;
            case SimdLevel.Vector256:
                NN<V256, IndexedRows>(m, n, k, a, lda, rows, c, ldc, accumulate);
                break;
            default:
                NN<V1, IndexedRows>(m, n, k, a, lda, rows, c, ldc, accumulate);
                break;
        }
    }

    /// <summary><c>C[m×n] (+)= A[m×k] · B[n×k]ᵀ</c>.</summary>
    public static void MultiplyNT(int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        switch (Simd.Level)
        {
            case SimdLevel.Vector512:
                NT<V512>(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
                break;
            case SimdLevel.Vector256:
                NT<V256>(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
                break;
            default:
                NT<V1>(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
                break;
        }
    }

    /// <summary>
    /// Depth of one pass over the shared dimension: a 256 × 32 panel of B is 32 KB and stays in L1
    /// while every row block of A streams past it; deeper panels spill to L2 and halve the speed.
    /// </summary>
    private const int DepthBlock = 256;

    // Internal rather than private: the tests call each width directly (V512, V256, V1) on one machine,
    // since Simd.Level is fixed per process.
    internal static void NN<T>(int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
        where T : unmanaged, IVector<T> =>
        NN<T, StridedRows>(m, n, k, a, lda, new StridedRows(b, ldb), c, ldc, accumulate);

    internal static void NN<T, TRows>(int m, int n, int k, float* a, int lda, TRows b, float* c, int ldc, bool accumulate)
        where T : unmanaged, IVector<T>
        where TRows : struct, IRowsOfB<TRows>
    {
        for (var p = 0; p < k; p += DepthBlock)
        {
            NNPanel<T, TRows>(m, n, Math.Min(DepthBlock, k - p), a + p, lda, b.FromRow(p), c, ldc, accumulate || p > 0);
        }
    }

    /// <summary>
    /// Where the rows of B are. The NN kernels are generic over it, so each kind is compiled with its address
    /// arithmetic inlined: evenly spaced rows (<see cref="StridedRows"/>) or a table of offsets (<see cref="IndexedRows"/>).
    /// </summary>
    internal interface IRowsOfB<TSelf>
        where TSelf : struct, IRowsOfB<TSelf>
    {
        /// <summary>The first element of row <paramref name="p"/>.</summary>
        float* Row(int p);

        /// <summary>The rows from row <paramref name="p"/> on.</summary>
        TSelf FromRow(int p);

        /// <summary>The same rows from column <paramref name="j"/> on.</summary>
        TSelf FromColumn(int j);
    }

    /// <summary>Row p at <c>b + p·ldb</c>.</summary>
    internal readonly struct StridedRows : IRowsOfB<StridedRows>
    {
        private readonly float* _b;
        private readonly int _ldb;

        public StridedRows(float* b, int ldb)
        {
            _b = b;
            _ldb = ldb;
        }

        public float* Row(int p) => _b + (p * _ldb);

        public StridedRows FromRow(int p) => new(_b + (p * _ldb), _ldb);

        public StridedRows FromColumn(int j) => new(_b + j, _ldb);
    }

    /// <summary>Row p at <c>b + offsets[p]</c>.</summary>
    internal readonly struct IndexedRows : IRowsOfB<IndexedRows>
    {
        private readonly float* _b;
        private readonly int* _offsets;

        public IndexedRows(float* b, int* offsets)
        {
            _b = b;
            _offsets = offsets;
        }

        public float* Row(int p) => _b + _offsets[p];

        public IndexedRows FromRow(int p) => new(_b, _offsets + p);

        public IndexedRows FromColumn(int j) => new(_b + j, _offsets);
    }

    private static void NNPanel<T, TRows>(int m, int n, int k, float* a, int lda, TRows b, float* c, int ldc, bool accumulate)
        where T : unmanaged, IVector<T>
        where TRows : struct, IRowsOfB<TRows>
    {
        var w = T.Count;
        var j = 0;
        for (; j + (2 * w) <= n; j += 2 * w)
        {
            var i = 0;
            for (int rows; m - i >= 4; i += rows)
            {
                rows = BlockRows(m - i);
                float* ai = a + (i * lda), ci = c + (i * ldc) + j;
                switch (rows)
                {
                    case 8: NNx2<T, Rows8, TRows>(k, ai, lda, b.FromColumn(j), ci, ldc, accumulate); break;
                    case 7: NNx2<T, Rows7, TRows>(k, ai, lda, b.FromColumn(j), ci, ldc, accumulate); break;
                    case 6: NNx2<T, Rows6, TRows>(k, ai, lda, b.FromColumn(j), ci, ldc, accumulate); break;
                    case 5: NNx2<T, Rows5, TRows>(k, ai, lda, b.FromColumn(j), ci, ldc, accumulate); break;
                    default: NNx2<T, Rows4, TRows>(k, ai, lda, b.FromColumn(j), ci, ldc, accumulate); break;
                }
            }

            for (; i < m; i++)
            {
                NN1x2<T, TRows>(k, a + (i * lda), b.FromColumn(j), c + (i * ldc) + j, accumulate);
            }
        }

        for (; j + w <= n; j += w)
        {
            var i = 0;
            for (int rows; m - i >= 4; i += rows)
            {
                rows = BlockRows(m - i);
                float* ai = a + (i * lda), ci = c + (i * ldc) + j;
                switch (rows)
                {
                    case 8: NNx1<T, Rows8, TRows>(k, ai, lda, b.FromColumn(j), ci, ldc, accumulate); break;
                    case 7: NNx1<T, Rows7, TRows>(k, ai, lda, b.FromColumn(j), ci, ldc, accumulate); break;
                    case 6: NNx1<T, Rows6, TRows>(k, ai, lda, b.FromColumn(j), ci, ldc, accumulate); break;
                    case 5: NNx1<T, Rows5, TRows>(k, ai, lda, b.FromColumn(j), ci, ldc, accumulate); break;
                    default: NNx1<T, Rows4, TRows>(k, ai, lda, b.FromColumn(j), ci, ldc, accumulate); break;
                }
            }

            for (; i < m; i++)
            {
                NN1x1<T, TRows>(k, a + (i * lda), b.FromColumn(j), c + (i * ldc) + j, accumulate);
            }
        }

        if (j < n && w > 1)
        {
            // Columns left over after the last full vector: the same kernel, one lane wide.
            NNPanel<V1, TRows>(m, n - j, k, a, lda, b.FromColumn(j), c + j, ldc, accumulate);
        }
    }

    /// <summary>
    /// Rows of A in the next register block when <paramref name="left"/> (at least 4) remain: 8 while at least
    /// 12 remain, then the rest in one block of 4–8 or, for 9–11, two blocks of 4–6. Every block keeps at
    /// least 4 rows, so the rows left over by a pruned width (22 = 8 + 8 + 6, 45 = 8·4 + 8 + 5, 90 = 8·10 + 5 + 5)
    /// run at the blocked rate instead of one row at a time, where a single row's two accumulators wait on
    /// the FMA latency and its B loads are not shared.
    /// </summary>
    private static int BlockRows(int left) => left >= 12 ? 8 : left <= 8 ? left : left / 2;

    /// <summary>A row count as a type, so a kernel generic over it is compiled once per count with the count constant.</summary>
    internal interface IRowCount
    {
        /// <summary>The rows.</summary>
        static abstract int Value { get; }
    }

    private readonly struct Rows1 : IRowCount
    {
        public static int Value => 1;
    }

    private readonly struct Rows2 : IRowCount
    {
        public static int Value => 2;
    }

    private readonly struct Rows3 : IRowCount
    {
        public static int Value => 3;
    }

    private readonly struct Rows4 : IRowCount
    {
        public static int Value => 4;
    }

    private readonly struct Rows5 : IRowCount
    {
        public static int Value => 5;
    }

    private readonly struct Rows6 : IRowCount
    {
        public static int Value => 6;
    }

    private readonly struct Rows7 : IRowCount
    {
        public static int Value => 7;
    }

    private readonly struct Rows8 : IRowCount
    {
        public static int Value => 8;
    }

    // 4 to 8 rows × 2 vectors of C kept in up to 16 registers; per step of k: 2 loads of B, one broadcast
    // of A per row, 2 FMAs per row. Eight rows make each loaded B vector feed 8 FMAs, which keeps the
    // FMA ports busy instead of waiting on loads (4 rows reached about half the throughput of 8).
    // The row count is a type (R), so every count is its own compiled method with the unused rows gone.
    // It used to be an argument made constant by inlining: once the JIT's inlining budget ran out, the
    // 4-row call stayed a call, the row tests ran inside the loop and the 16 accumulators spilled — a
    // product whose rows needed a 4-row block (m = 20, 25, 28, …) ran 5× slower.
    private static void NNx2<T, R, TRows>(int k, float* a, int lda, TRows b, float* c, int ldc, bool accumulate)
        where T : unmanaged, IVector<T>
        where R : struct, IRowCount
        where TRows : struct, IRowsOfB<TRows>
    {
        var rows = R.Value;
        var w = T.Count;
        T c00 = T.Zero, c01 = T.Zero, c10 = T.Zero, c11 = T.Zero, c20 = T.Zero, c21 = T.Zero, c30 = T.Zero, c31 = T.Zero;
        T c40 = T.Zero, c41 = T.Zero, c50 = T.Zero, c51 = T.Zero, c60 = T.Zero, c61 = T.Zero, c70 = T.Zero, c71 = T.Zero;
        float* a0 = a, a1 = a + lda, a2 = a + (2 * lda), a3 = a + (3 * lda);
        float* a4 = a + (4 * lda), a5 = a + (5 * lda), a6 = a + (6 * lda), a7 = a + (7 * lda);
        for (var p = 0; p < k; p++)
        {
            var bp = b.Row(p);
            var b0 = T.Load(bp);
            var b1 = T.Load(bp + w);
            var x = T.Broadcast(a0[p]);
            c00 = T.MultiplyAdd(x, b0, c00);
            c01 = T.MultiplyAdd(x, b1, c01);
            x = T.Broadcast(a1[p]);
            c10 = T.MultiplyAdd(x, b0, c10);
            c11 = T.MultiplyAdd(x, b1, c11);
            x = T.Broadcast(a2[p]);
            c20 = T.MultiplyAdd(x, b0, c20);
            c21 = T.MultiplyAdd(x, b1, c21);
            x = T.Broadcast(a3[p]);
            c30 = T.MultiplyAdd(x, b0, c30);
            c31 = T.MultiplyAdd(x, b1, c31);
            if (rows > 4)
            {
                x = T.Broadcast(a4[p]);
                c40 = T.MultiplyAdd(x, b0, c40);
                c41 = T.MultiplyAdd(x, b1, c41);
            }

            if (rows > 5)
            {
                x = T.Broadcast(a5[p]);
                c50 = T.MultiplyAdd(x, b0, c50);
                c51 = T.MultiplyAdd(x, b1, c51);
            }

            if (rows > 6)
            {
                x = T.Broadcast(a6[p]);
                c60 = T.MultiplyAdd(x, b0, c60);
                c61 = T.MultiplyAdd(x, b1, c61);
            }

            if (rows > 7)
            {
                x = T.Broadcast(a7[p]);
                c70 = T.MultiplyAdd(x, b0, c70);
                c71 = T.MultiplyAdd(x, b1, c71);
            }
        }

        Put(c, c00, accumulate);
        Put(c + w, c01, accumulate);
        Put(c + ldc, c10, accumulate);
        Put(c + ldc + w, c11, accumulate);
        Put(c + (2 * ldc), c20, accumulate);
        Put(c + (2 * ldc) + w, c21, accumulate);
        Put(c + (3 * ldc), c30, accumulate);
        Put(c + (3 * ldc) + w, c31, accumulate);
        if (rows > 4)
        {
            Put(c + (4 * ldc), c40, accumulate);
            Put(c + (4 * ldc) + w, c41, accumulate);
        }

        if (rows > 5)
        {
            Put(c + (5 * ldc), c50, accumulate);
            Put(c + (5 * ldc) + w, c51, accumulate);
        }

        if (rows > 6)
        {
            Put(c + (6 * ldc), c60, accumulate);
            Put(c + (6 * ldc) + w, c61, accumulate);
        }

        if (rows > 7)
        {
            Put(c + (7 * ldc), c70, accumulate);
            Put(c + (7 * ldc) + w, c71, accumulate);
        }
    }

    // 4 to 8 rows × 1 vector: independent accumulators hide the FMA latency on narrow strips (the last
    // columns of a layer, or a whole layer at 7×7) where a single row would stall on it. Rows as in NNx2.
    private static void NNx1<T, R, TRows>(int k, float* a, int lda, TRows b, float* c, int ldc, bool accumulate)
        where T : unmanaged, IVector<T>
        where R : struct, IRowCount
        where TRows : struct, IRowsOfB<TRows>
    {
        var rows = R.Value;
        T c0 = T.Zero, c1 = T.Zero, c2 = T.Zero, c3 = T.Zero, c4 = T.Zero, c5 = T.Zero, c6 = T.Zero, c7 = T.Zero;
        for (var p = 0; p < k; p++)
        {
            var bp = T.Load(b.Row(p));
            c0 = T.MultiplyAdd(T.Broadcast(a[p]), bp, c0);
            c1 = T.MultiplyAdd(T.Broadcast(a[lda + p]), bp, c1);
            c2 = T.MultiplyAdd(T.Broadcast(a[(2 * lda) + p]), bp, c2);
            c3 = T.MultiplyAdd(T.Broadcast(a[(3 * lda) + p]), bp, c3);
            if (rows > 4)
            {
                c4 = T.MultiplyAdd(T.Broadcast(a[(4 * lda) + p]), bp, c4);
            }

            if (rows > 5)
            {
                c5 = T.MultiplyAdd(T.Broadcast(a[(5 * lda) + p]), bp, c5);
            }

            if (rows > 6)
            {
                c6 = T.MultiplyAdd(T.Broadcast(a[(6 * lda) + p]), bp, c6);
            }

            if (rows > 7)
            {
                c7 = T.MultiplyAdd(T.Broadcast(a[(7 * lda) + p]), bp, c7);
            }
        }

        Put(c, c0, accumulate);
        Put(c + ldc, c1, accumulate);
        Put(c + (2 * ldc), c2, accumulate);
        Put(c + (3 * ldc), c3, accumulate);
        if (rows > 4)
        {
            Put(c + (4 * ldc), c4, accumulate);
        }

        if (rows > 5)
        {
            Put(c + (5 * ldc), c5, accumulate);
        }

        if (rows > 6)
        {
            Put(c + (6 * ldc), c6, accumulate);
        }

        if (rows > 7)
        {
            Put(c + (7 * ldc), c7, accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void NN1x2<T, TRows>(int k, float* a, TRows b, float* c, bool accumulate)
        where T : unmanaged, IVector<T>
        where TRows : struct, IRowsOfB<TRows>
    {
        var w = T.Count;
        T c0 = T.Zero, c1 = T.Zero;
        for (var p = 0; p < k; p++)
        {
            var x = T.Broadcast(a[p]);
            var bp = b.Row(p);
            c0 = T.MultiplyAdd(x, T.Load(bp), c0);
            c1 = T.MultiplyAdd(x, T.Load(bp + w), c1);
        }

        Put(c, c0, accumulate);
        Put(c + w, c1, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void NN1x1<T, TRows>(int k, float* a, TRows b, float* c, bool accumulate)
        where T : unmanaged, IVector<T>
        where TRows : struct, IRowsOfB<TRows>
    {
        var c0 = T.Zero;
        for (var p = 0; p < k; p++)
        {
            c0 = T.MultiplyAdd(T.Broadcast(a[p]), T.Load(b.Row(p)), c0);
        }

        Put(c, c0, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put<T>(float* c, T value, bool accumulate)
        where T : unmanaged, IVector<T> =>
        T.Store(accumulate ? T.Add(T.Load(c), value) : value, c);

    // Internal for the same reason as NN: the tests drive every width directly.
    internal static void NT<T>(int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
        where T : unmanaged, IVector<T>
    {
        var w = T.Count;
        var kMain = k / w * w;
        if (kMain > 0)
        {
            for (var i = 0; i < m; i += 4)
            {
                // The last block takes the 1–3 rows left: each loaded row of B still feeds every row of A in it.
                // One row at a time, a 2- or 3-sample call read all of B once per sample: 784 → 256 at 3 samples,
                // one thread, took 25.4 µs that way and 13.4 µs this way (batch 1: 9.0).
                var rows = Math.Min(4, m - i);
                var j = 0;
                for (; j + 4 <= n; j += 4)
                {
                    float* ai = a + (i * lda), bj = b + (j * ldb), cij = c + (i * ldc) + j;
                    switch (rows)
                    {
                        case 4: NTx4<T, Rows4>(kMain, ai, lda, bj, ldb, cij, ldc, accumulate); break;
                        case 3: NTx4<T, Rows3>(kMain, ai, lda, bj, ldb, cij, ldc, accumulate); break;
                        case 2: NTx4<T, Rows2>(kMain, ai, lda, bj, ldb, cij, ldc, accumulate); break;
                        default: NTx4<T, Rows1>(kMain, ai, lda, bj, ldb, cij, ldc, accumulate); break;
                    }
                }

                for (; j < n; j++)
                {
                    for (var r = 0; r < rows; r++)
                    {
                        NT1x1<T>(kMain, a + ((i + r) * lda), b + (j * ldb), c + ((i + r) * ldc) + j, accumulate);
                    }
                }
            }
        }

        if (kMain < k && w > 1)
        {
            // The shared dimension's tail (fewer than one vector): accumulate it one lane wide.
            NT<V1>(m, n, k - kMain, a + kMain, lda, b + kMain, ldb, c, ldc, accumulate || kMain > 0);
        }
    }

    // 1 to 4 rows of A (R, a type like the NN kernels' row counts) × 4 rows of B: up to 16 dot products accumulated in
    // registers, reduced once at the end.
    private static void NTx4<T, R>(int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
        where T : unmanaged, IVector<T>
        where R : struct, IRowCount
    {
        var rows = R.Value;
        var w = T.Count;
        T s00 = T.Zero, s01 = T.Zero, s02 = T.Zero, s03 = T.Zero;
        T s10 = T.Zero, s11 = T.Zero, s12 = T.Zero, s13 = T.Zero;
        T s20 = T.Zero, s21 = T.Zero, s22 = T.Zero, s23 = T.Zero;
        T s30 = T.Zero, s31 = T.Zero, s32 = T.Zero, s33 = T.Zero;
        for (var p = 0; p < k; p += w)
        {
            var b0 = T.Load(b + p);
            var b1 = T.Load(b + ldb + p);
            var b2 = T.Load(b + (2 * ldb) + p);
            var b3 = T.Load(b + (3 * ldb) + p);
            var x = T.Load(a + p);
            s00 = T.MultiplyAdd(x, b0, s00);
            s01 = T.MultiplyAdd(x, b1, s01);
            s02 = T.MultiplyAdd(x, b2, s02);
            s03 = T.MultiplyAdd(x, b3, s03);
            if (rows > 1)
            {
                x = T.Load(a + lda + p);
                s10 = T.MultiplyAdd(x, b0, s10);
                s11 = T.MultiplyAdd(x, b1, s11);
                s12 = T.MultiplyAdd(x, b2, s12);
                s13 = T.MultiplyAdd(x, b3, s13);
            }

            if (rows > 2)
            {
                x = T.Load(a + (2 * lda) + p);
                s20 = T.MultiplyAdd(x, b0, s20);
                s21 = T.MultiplyAdd(x, b1, s21);
                s22 = T.MultiplyAdd(x, b2, s22);
                s23 = T.MultiplyAdd(x, b3, s23);
            }

            if (rows > 3)
            {
                x = T.Load(a + (3 * lda) + p);
                s30 = T.MultiplyAdd(x, b0, s30);
                s31 = T.MultiplyAdd(x, b1, s31);
                s32 = T.MultiplyAdd(x, b2, s32);
                s33 = T.MultiplyAdd(x, b3, s33);
            }
        }

        Row(c, T.Sum(s00), T.Sum(s01), T.Sum(s02), T.Sum(s03), accumulate);
        if (rows > 1)
        {
            Row(c + ldc, T.Sum(s10), T.Sum(s11), T.Sum(s12), T.Sum(s13), accumulate);
        }

        if (rows > 2)
        {
            Row(c + (2 * ldc), T.Sum(s20), T.Sum(s21), T.Sum(s22), T.Sum(s23), accumulate);
        }

        if (rows > 3)
        {
            Row(c + (3 * ldc), T.Sum(s30), T.Sum(s31), T.Sum(s32), T.Sum(s33), accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void NT1x1<T>(int k, float* a, float* b, float* c, bool accumulate)
        where T : unmanaged, IVector<T>
    {
        var w = T.Count;
        var s = T.Zero;
        for (var p = 0; p < k; p += w)
        {
            s = T.MultiplyAdd(T.Load(a + p), T.Load(b + p), s);
        }

        *c = accumulate ? *c + T.Sum(s) : T.Sum(s);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row(float* c, float v0, float v1, float v2, float v3, bool accumulate)
    {
        if (accumulate)
        {
            c[0] += v0;
            c[1] += v1;
            c[2] += v2;
            c[3] += v3;
        }
        else
        {
            c[0] = v0;
            c[1] = v1;
            c[2] = v2;
            c[3] = v3;
        }
    }
}
