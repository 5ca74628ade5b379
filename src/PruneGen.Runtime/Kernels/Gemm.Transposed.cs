using System.Runtime.CompilerServices;

namespace PruneGen.Kernels;

public static unsafe partial class Gemm
{
    /// <summary>
    /// <c>C[m×n] (+)= A[k×m]ᵀ · B[k×n]</c>: the weight gradient of a dense layer (<c>dW = dYᵀ·X</c>)
    /// and the column gradient of a convolution (<c>dCols = Wᵀ·dY</c>). Vectorized along the columns
    /// of B like <see cref="MultiplyNN"/>; A is read down its columns.
    /// </summary>
    public static void MultiplyTN(int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        switch (Simd.Level)
        {
            case SimdLevel.Vector512:
                TN<V512>(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
                break;
            case SimdLevel.Vector256:
                TN<V256>(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
                break;
            default:
                TN<V1>(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
                break;
        }
    }

    internal static void TN<T>(int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
        where T : unmanaged, IVector<T>
    {
        var w = T.Count;
        var j = 0;
        for (; j + (2 * w) <= n; j += 2 * w)
        {
            var i = 0;
            for (; i + 8 <= m; i += 8)
            {
                TNx2<T, Rows8>(k, a + i, lda, b + j, ldb, c + (i * ldc) + j, ldc, accumulate);
            }

            for (; i + 4 <= m; i += 4)
            {
                TNx2<T, Rows4>(k, a + i, lda, b + j, ldb, c + (i * ldc) + j, ldc, accumulate);
            }

            for (; i < m; i++)
            {
                TN1xW<T>(k, a + i, lda, b + j, ldb, c + (i * ldc) + j, accumulate, 2);
            }
        }

        for (; j + w <= n; j += w)
        {
            var i = 0;
            for (; i + 8 <= m; i += 8)
            {
                TN8x1<T>(k, a + i, lda, b + j, ldb, c + (i * ldc) + j, ldc, accumulate);
            }

            for (; i < m; i++)
            {
                TN1xW<T>(k, a + i, lda, b + j, ldb, c + (i * ldc) + j, accumulate, 1);
            }
        }

        if (j < n && w > 1)
        {
            TN<V1>(m, n - j, k, a, lda, b + j, ldb, c + j, ldc, accumulate);
        }
    }

    // A is k×m row-major, so the A values of step p sit next to each other at a[p·lda + 0..7].
    // Up to 8 rows × 2 vectors in 16 registers, as in NNx2; the row count (4 or 8) is a type, as there.
    private static void TNx2<T, R>(int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
        where T : unmanaged, IVector<T>
        where R : struct, IRowCount
    {
        var rows = R.Value;
        var w = T.Count;
        T c00 = T.Zero, c01 = T.Zero, c10 = T.Zero, c11 = T.Zero, c20 = T.Zero, c21 = T.Zero, c30 = T.Zero, c31 = T.Zero;
        T c40 = T.Zero, c41 = T.Zero, c50 = T.Zero, c51 = T.Zero, c60 = T.Zero, c61 = T.Zero, c70 = T.Zero, c71 = T.Zero;
        for (var p = 0; p < k; p++)
        {
            var bp = b + (p * ldb);
            var ap = a + (p * lda);
            var b0 = T.Load(bp);
            var b1 = T.Load(bp + w);
            var x = T.Broadcast(ap[0]);
            c00 = T.MultiplyAdd(x, b0, c00);
            c01 = T.MultiplyAdd(x, b1, c01);
            x = T.Broadcast(ap[1]);
            c10 = T.MultiplyAdd(x, b0, c10);
            c11 = T.MultiplyAdd(x, b1, c11);
            x = T.Broadcast(ap[2]);
            c20 = T.MultiplyAdd(x, b0, c20);
            c21 = T.MultiplyAdd(x, b1, c21);
            x = T.Broadcast(ap[3]);
            c30 = T.MultiplyAdd(x, b0, c30);
            c31 = T.MultiplyAdd(x, b1, c31);
            if (rows == 8)
            {
                x = T.Broadcast(ap[4]);
                c40 = T.MultiplyAdd(x, b0, c40);
                c41 = T.MultiplyAdd(x, b1, c41);
                x = T.Broadcast(ap[5]);
                c50 = T.MultiplyAdd(x, b0, c50);
                c51 = T.MultiplyAdd(x, b1, c51);
                x = T.Broadcast(ap[6]);
                c60 = T.MultiplyAdd(x, b0, c60);
                c61 = T.MultiplyAdd(x, b1, c61);
                x = T.Broadcast(ap[7]);
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
        if (rows == 8)
        {
            Put(c + (4 * ldc), c40, accumulate);
            Put(c + (4 * ldc) + w, c41, accumulate);
            Put(c + (5 * ldc), c50, accumulate);
            Put(c + (5 * ldc) + w, c51, accumulate);
            Put(c + (6 * ldc), c60, accumulate);
            Put(c + (6 * ldc) + w, c61, accumulate);
            Put(c + (7 * ldc), c70, accumulate);
            Put(c + (7 * ldc) + w, c71, accumulate);
        }
    }

    // 8 rows × 1 vector, eight independent accumulators (see NNx1).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TN8x1<T>(int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
        where T : unmanaged, IVector<T>
    {
        T c0 = T.Zero, c1 = T.Zero, c2 = T.Zero, c3 = T.Zero, c4 = T.Zero, c5 = T.Zero, c6 = T.Zero, c7 = T.Zero;
        for (var p = 0; p < k; p++)
        {
            var ap = a + (p * lda);
            var bp = T.Load(b + (p * ldb));
            c0 = T.MultiplyAdd(T.Broadcast(ap[0]), bp, c0);
            c1 = T.MultiplyAdd(T.Broadcast(ap[1]), bp, c1);
            c2 = T.MultiplyAdd(T.Broadcast(ap[2]), bp, c2);
            c3 = T.MultiplyAdd(T.Broadcast(ap[3]), bp, c3);
            c4 = T.MultiplyAdd(T.Broadcast(ap[4]), bp, c4);
            c5 = T.MultiplyAdd(T.Broadcast(ap[5]), bp, c5);
            c6 = T.MultiplyAdd(T.Broadcast(ap[6]), bp, c6);
            c7 = T.MultiplyAdd(T.Broadcast(ap[7]), bp, c7);
        }

        Put(c, c0, accumulate);
        Put(c + ldc, c1, accumulate);
        Put(c + (2 * ldc), c2, accumulate);
        Put(c + (3 * ldc), c3, accumulate);
        Put(c + (4 * ldc), c4, accumulate);
        Put(c + (5 * ldc), c5, accumulate);
        Put(c + (6 * ldc), c6, accumulate);
        Put(c + (7 * ldc), c7, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TN1xW<T>(int k, float* a, int lda, float* b, int ldb, float* c, bool accumulate, int vectors)
        where T : unmanaged, IVector<T>
    {
        var w = T.Count;
        T c0 = T.Zero, c1 = T.Zero;
        for (var p = 0; p < k; p++)
        {
            var x = T.Broadcast(a[p * lda]);
            c0 = T.MultiplyAdd(x, T.Load(b + (p * ldb)), c0);
            if (vectors == 2)
            {
                c1 = T.MultiplyAdd(x, T.Load(b + (p * ldb) + w), c1);
            }
        }

        Put(c, c0, accumulate);
        if (vectors == 2)
        {
            Put(c + w, c1, accumulate);
        }
    }
}
