using System.Runtime.Intrinsics;
using PruneGen.Kernels;

namespace PruneGen.Tests.Numerics;

/// <summary>
/// <see cref="Gemm"/> against a naive triple loop in double, at every vector width (called directly,
/// independent of <see cref="Simd.Level"/>) and through the public dispatchers, for odd sizes around
/// the 4-row, 8/16-lane and 2-vector tile boundaries, with padded leading dimensions.
/// Every float outside the matrices (row padding and guard zones) is NaN: a kernel that read past a
/// row or a matrix would turn its result into NaN, one that wrote there would leave a number behind.
/// </summary>
public unsafe class GemmTests
{
    private const int Guard = 64;

    // Every row blocking: single rows (1–3), one block of 4–8, two blocks for 9–11, eights then a rest (13, 22, 45).
    private static readonly int[] Ms = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 22, 45];
    private static readonly int[] Ns = [1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 100];
    private static readonly int[] Ks = [1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 64, 65, 129];

    /// <summary>Width ("512", "256", "1", or "dispatch" for the public entry point at the process's level) × accumulate.</summary>
    public static TheoryData<string, bool> Widths
    {
        get
        {
            var data = new TheoryData<string, bool>();
            foreach (var w in new[] { "512", "256", "1", "dispatch" })
            {
                data.Add(w, false);
                data.Add(w, true);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void MultiplyNNMatchesNaiveLoop(string width, bool accumulate) => CheckAllSizes(width, transposeB: false, accumulate);

    [Theory]
    [MemberData(nameof(Widths))]
    public void MultiplyNTMatchesNaiveLoop(string width, bool accumulate) => CheckAllSizes(width, transposeB: true, accumulate);

    /// <summary>
    /// <see cref="Gemm.MultiplyNNIndexed"/>: B's rows sit in one buffer in shuffled order, NaN between them, and are
    /// found through the offset table (as a convolution finds its taps in the bordered input).
    /// </summary>
    [Theory]
    [MemberData(nameof(Widths))]
    public void MultiplyNNIndexedMatchesNaiveLoop(string width, bool accumulate)
    {
        if (width == "512" && !Vector512.IsHardwareAccelerated)
        {
            return;
        }

        var random = new Random(HashCode.Combine(width, accumulate, 7) & 0x7fff);
        foreach (var (m, n, k) in new[] { (1, 16, 9), (8, 64, 27), (13, 33, 65), (22, 100, 300), (45, 48, 17) })
        {
            var a = Matrix(m, k, k, random);
            var c = Matrix(m, n, n, random);
            var expected = (float[])c.Clone();

            // Row p of B goes to slot order[p]; each slot is n floats plus a NaN gap of 3.
            var order = Enumerable.Range(0, k).OrderBy(_ => random.Next()).ToArray();
            var b = new float[Guard + (k * (n + 3)) + Guard];
            Array.Fill(b, float.NaN);
            var offsets = new int[k];
            for (var p = 0; p < k; p++)
            {
                offsets[p] = order[p] * (n + 3);
                for (var j = 0; j < n; j++)
                {
                    b[Guard + offsets[p] + j] = (float)((random.NextDouble() * 2) - 1);
                }
            }

            for (var i = 0; i < m; i++)
            {
                for (var j = 0; j < n; j++)
                {
                    double sum = accumulate ? expected[Guard + (i * n) + j] : 0;
                    for (var p = 0; p < k; p++)
                    {
                        sum += (double)a[Guard + (i * k) + p] * b[Guard + offsets[p] + j];
                    }

                    expected[Guard + (i * n) + j] = (float)sum;
                }
            }

            fixed (float* pa = a, pb = b, pc = c)
            fixed (int* po = offsets)
            {
                var rows = new Gemm.IndexedRows(pb + Guard, po);
                switch (width)
                {
                    case "512": Gemm.NN<V512, Gemm.IndexedRows>(m, n, k, pa + Guard, k, rows, pc + Guard, n, accumulate); break;
                    case "256": Gemm.NN<V256, Gemm.IndexedRows>(m, n, k, pa + Guard, k, rows, pc + Guard, n, accumulate); break;
                    case "1": Gemm.NN<V1, Gemm.IndexedRows>(m, n, k, pa + Guard, k, rows, pc + Guard, n, accumulate); break;
                    default: Gemm.MultiplyNNIndexed(m, n, k, pa + Guard, k, pb + Guard, po, pc + Guard, n, accumulate); break;
                }
            }

            for (var q = 0; q < c.Length; q++)
            {
                var ok = float.IsNaN(expected[q]) ? float.IsNaN(c[q]) : Math.Abs(c[q] - expected[q]) <= 1e-4 * Math.Max(1, Math.Abs(expected[q]));
                Assert.True(ok, $"{m}×{n}×{k} (width {width}, accumulate {accumulate}): element {q} is {c[q]}, expected {expected[q]}.");
            }
        }
    }

    private static void CheckAllSizes(string width, bool transposeB, bool accumulate)
    {
        if (width == "512" && !Vector512.IsHardwareAccelerated)
        {
            return; // Software-emulated Vector512 is not a path the library takes.
        }

        var random = new Random(HashCode.Combine(width, transposeB, accumulate) & 0x7fff);
        foreach (var m in Ms)
        {
            foreach (var n in Ns)
            {
                foreach (var k in Ks)
                {
                    Check(width, transposeB, accumulate, m, n, k, random);
                }
            }
        }
    }

    private static void Check(string width, bool transposeB, bool accumulate, int m, int n, int k, Random random)
    {
        // Leading dimensions 1–4 floats longer than the rows, varying with the size.
        var extra = 1 + ((m + n + k) % 4);
        int lda = k + extra, ldc = n + extra + 1;
        int bRows = transposeB ? n : k, bCols = transposeB ? k : n;
        var ldb = bCols + extra + 2;
        var a = Matrix(m, k, lda, random);
        var b = Matrix(bRows, bCols, ldb, random);
        var c = Matrix(m, n, ldc, accumulate ? random : null);
        var c0 = (float[])c.Clone();

        fixed (float* pa = a, pb = b, pc = c)
        {
            Run(width, transposeB, m, n, k, pa + Guard, lda, pb + Guard, ldb, pc + Guard, ldc, accumulate);
        }

        string what = $"{(transposeB ? "NT" : "NN")}<{width}> m={m} n={n} k={k} lda={lda} ldb={ldb} ldc={ldc} accumulate={accumulate}";
        for (var i = 0; i < c.Length; i++)
        {
            var row = (i - Guard) / ldc;
            var col = (i - Guard) % ldc;
            var inside = i >= Guard && row < m && col < n;
            if (!inside)
            {
                if (!float.IsNaN(c[i]))
                {
                    Assert.Fail($"{what}: wrote {c[i]} outside C at offset {i - Guard}");
                }

                continue;
            }

            // Naive C = A·B (or A·Bᵀ) in double, and the a-priori float error bound of a k-term dot
            // product summed in any order, plus the accumulate add: (k + 2)·u·(Σ|a·b| + |c0|).
            double sum = accumulate ? c0[i] : 0, magnitude = accumulate ? Math.Abs(c0[i]) : 0;
            for (var p = 0; p < k; p++)
            {
                var av = a[Guard + (row * lda) + p];
                var bv = transposeB ? b[Guard + (col * ldb) + p] : b[Guard + (p * ldb) + col];
                sum += (double)av * bv;
                magnitude += Math.Abs((double)av * bv);
            }

            var bound = 2 * (k + 2) * Math.Pow(2, -24) * magnitude;
            var error = Math.Abs(c[i] - sum);
            if (!(error <= bound))
            {
                Assert.Fail($"{what}: C[{row}, {col}] = {c[i]:R}, expected {sum:R} (error {error:G3} > bound {bound:G3})");
            }
        }
    }

    /// <summary>A rows × cols matrix with leading dimension ld inside NaN guards; values uniform in [−1, 1) (or NaN when <paramref name="random"/> is null).</summary>
    private static float[] Matrix(int rows, int cols, int ld, Random? random)
    {
        var data = new float[Guard + (rows * ld) + Guard];
        Array.Fill(data, float.NaN);
        if (random is not null)
        {
            for (var r = 0; r < rows; r++)
            {
                for (var j = 0; j < cols; j++)
                {
                    data[Guard + (r * ld) + j] = (float)((random.NextDouble() * 2) - 1);
                }
            }
        }

        return data;
    }

    private static void Run(string width, bool transposeB, int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        switch (width, transposeB)
        {
            case ("512", false): Gemm.NN<V512>(m, n, k, a, lda, b, ldb, c, ldc, accumulate); break;
            case ("512", true): Gemm.NT<V512>(m, n, k, a, lda, b, ldb, c, ldc, accumulate); break;
            case ("256", false): Gemm.NN<V256>(m, n, k, a, lda, b, ldb, c, ldc, accumulate); break;
            case ("256", true): Gemm.NT<V256>(m, n, k, a, lda, b, ldb, c, ldc, accumulate); break;
            case ("1", false): Gemm.NN<V1>(m, n, k, a, lda, b, ldb, c, ldc, accumulate); break;
            case ("1", true): Gemm.NT<V1>(m, n, k, a, lda, b, ldb, c, ldc, accumulate); break;
            case ("dispatch", false): Gemm.MultiplyNN(m, n, k, a, lda, b, ldb, c, ldc, accumulate); break;
            case ("dispatch", true): Gemm.MultiplyNT(m, n, k, a, lda, b, ldb, c, ldc, accumulate); break;
            default: throw new ArgumentException($"Unknown width '{width}'.", nameof(width));
        }
    }
}
