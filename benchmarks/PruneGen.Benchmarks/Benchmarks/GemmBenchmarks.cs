using BenchmarkDotNet.Attributes;
using PruneGen.Benchmarks.Workloads;

namespace PruneGen.Benchmarks.Benchmarks;

/// <summary><c>Gemm.MultiplyNN</c> (C = A·B, single-threaded) on a square and a convolution-like shape.</summary>
[Config(typeof(GemmConfig))]
public class GemmBenchmarks
{
    private GemmWorkload? _gemm;

    /// <summary>M×N×K.</summary>
    [Params("256x256x256", "64x784x576")]
    public string Shape { get; set; } = "256x256x256";

    /// <summary>Allocates the operands and runs until the JIT has optimized the kernel.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _gemm = GemmWorkload.Create(Shape);
        Warmup.Run(_gemm.Run);
    }

    /// <summary>Frees the operands.</summary>
    [GlobalCleanup]
    public void Cleanup() => _gemm?.Dispose();

    /// <summary>One product.</summary>
    [Benchmark]
    public void MultiplyNN() => _gemm!.Run();
}
