using System;
using System.Runtime.InteropServices;
using PruneGen.Kernels;

namespace PruneGen.Benchmarks.Workloads;

/// <summary><see cref="Gemm.MultiplyNN"/> on one shape, with 64-byte aligned, seeded operands.</summary>
public sealed unsafe class GemmWorkload : IDisposable
{
    private readonly float* _a;
    private readonly float* _b;
    private readonly float* _c;

    /// <summary>The shapes the benchmarks use: a square one and the im2col product of VGG's conv4.</summary>
    public static readonly (string Name, int M, int N, int K)[] Shapes =
    {
        ("256x256x256", 256, 256, 256),
        ("64x784x576", 64, 784, 576),
    };

    /// <summary>
    /// Quick mode adds the im2col products of VggNet's 14×14 and 7×7 convolutions next to the same
    /// products with N cut to a multiple of 32 (two Vector512 columns), to show what the columns left
    /// over after the last full vector cost.
    /// </summary>
    public static readonly (string Name, int M, int N, int K)[] EdgeShapes =
    {
        ("64x196x576", 64, 196, 576),
        ("64x192x576", 64, 192, 576),
        ("128x49x1152", 128, 49, 1152),
        ("128x48x1152", 128, 48, 1152),
    };

    /// <summary>Allocates C[m×n] = A[m×k]·B[k×n] with values in [−1, 1).</summary>
    public GemmWorkload(int m, int n, int k)
    {
        (M, N, K) = (m, n, k);
        _a = Allocate(m * k, 1);
        _b = Allocate(k * n, 2);
        _c = Allocate(m * n, 3);
    }

    /// <summary>Creates the workload of a shape named in <see cref="Shapes"/>.</summary>
    public static GemmWorkload Create(string shape)
    {
        foreach (var s in Shapes)
        {
            if (s.Name == shape)
            {
                return new GemmWorkload(s.M, s.N, s.K);
            }
        }

        throw new ArgumentException($"Unknown GEMM shape '{shape}'.", nameof(shape));
    }

    /// <summary>Rows of A and C.</summary>
    public int M { get; }

    /// <summary>Columns of B and C.</summary>
    public int N { get; }

    /// <summary>Shared dimension.</summary>
    public int K { get; }

    /// <summary>Floating-point operations of one product (2·M·N·K).</summary>
    public double Flops => 2.0 * M * N * K;

    /// <summary>C = A·B.</summary>
    public void Run() => Gemm.MultiplyNN(M, N, K, _a, K, _b, N, _c, N, accumulate: false);

    /// <inheritdoc />
    public void Dispose()
    {
        NativeMemory.AlignedFree(_a);
        NativeMemory.AlignedFree(_b);
        NativeMemory.AlignedFree(_c);
    }

    private static float* Allocate(int length, int seed)
    {
        var p = (float*)NativeMemory.AlignedAlloc((nuint)(length * sizeof(float)), 64);
        var random = new Random(seed);
        for (var i = 0; i < length; i++)
        {
            p[i] = ((float)random.NextDouble() * 2f) - 1f;
        }

        return p;
    }
}
