using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PruneGen.Kernels;

/// <summary>Matrix transposition for kernels that multiply in the other layout (convolution backward, large-batch dense).</summary>
internal static unsafe class Transpose
{
    /// <summary>
    /// dst[c, r] = src[r, c] for a rows × cols source whose rows are <paramref name="lds"/> floats apart, rows of dst
    /// <paramref name="ldd"/> floats apart: 8×8 blocks in registers where the vector width allows, the edges one float
    /// at a time. One float at a time throughout, the transpose of a convolution's output gradient took about a tenth
    /// of its weight gradient (0.9 ms of VggNet's 32→32 layer's 11 ms at batch 64, one thread).
    /// </summary>
    public static void Matrix(float* src, int rows, int cols, int lds, float* dst, int ldd)
    {
        var r = 0;
        if (Simd.Level != SimdLevel.Scalar && Avx.IsSupported)
        {
            for (; r + 8 <= rows; r += 8)
            {
                var c = 0;
                for (; c + 8 <= cols; c += 8)
                {
                    Block8x8(src + (r * lds) + c, lds, dst + (c * ldd) + r, ldd);
                }

                for (; c < cols; c++)
                {
                    for (var i = r; i < r + 8; i++)
                    {
                        dst[(c * ldd) + i] = src[(i * lds) + c];
                    }
                }
            }
        }

        for (; r < rows; r++)
        {
            for (var c = 0; c < cols; c++)
            {
                dst[(c * ldd) + r] = src[(r * lds) + c];
            }
        }
    }

    // Rows a0…a7 of 8 floats in, their columns out: pairs interleaved, then quadruples, then the 128-bit halves. Inlined:
    // compiled without profile data it stayed a call per block (`perf`, DOTNET_TieredPGO=0: 14 % of a Winograd layer).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block8x8(float* a, int lda, float* b, int ldb)
    {
        Vector256<float> a0 = Vector256.Load(a), a1 = Vector256.Load(a + lda), a2 = Vector256.Load(a + (2 * lda)), a3 = Vector256.Load(a + (3 * lda));
        Vector256<float> a4 = Vector256.Load(a + (4 * lda)), a5 = Vector256.Load(a + (5 * lda)), a6 = Vector256.Load(a + (6 * lda)), a7 = Vector256.Load(a + (7 * lda));
        Vector256<float> t0 = Avx.UnpackLow(a0, a1), t1 = Avx.UnpackHigh(a0, a1), t2 = Avx.UnpackLow(a2, a3), t3 = Avx.UnpackHigh(a2, a3);
        Vector256<float> t4 = Avx.UnpackLow(a4, a5), t5 = Avx.UnpackHigh(a4, a5), t6 = Avx.UnpackLow(a6, a7), t7 = Avx.UnpackHigh(a6, a7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Permute2x128(u0, u4, 0x20).Store(b);
        Avx.Permute2x128(u1, u5, 0x20).Store(b + ldb);
        Avx.Permute2x128(u2, u6, 0x20).Store(b + (2 * ldb));
        Avx.Permute2x128(u3, u7, 0x20).Store(b + (3 * ldb));
        Avx.Permute2x128(u0, u4, 0x31).Store(b + (4 * ldb));
        Avx.Permute2x128(u1, u5, 0x31).Store(b + (5 * ldb));
        Avx.Permute2x128(u2, u6, 0x31).Store(b + (6 * ldb));
        Avx.Permute2x128(u3, u7, 0x31).Store(b + (7 * ldb));
    }
}
