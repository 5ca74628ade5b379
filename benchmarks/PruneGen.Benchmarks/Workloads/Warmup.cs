using System;
using System.Diagnostics;

namespace PruneGen.Benchmarks.Workloads;

/// <summary>
/// Runs a workload until tiered JIT has replaced its first (unoptimized) code. PruneGen's kernels
/// are generic over vector structs: at tier 0 every vector operation is a call, and a first call is
/// 10–100× slower than the optimized code. BenchmarkDotNet's pilot stage would otherwise size its
/// iterations from those slow calls (a handful of invocations per iteration).
/// </summary>
public static class Warmup
{
    /// <summary>Calls <paramref name="action"/> for about <paramref name="seconds"/> (at least 30 times, at most 10 s).</summary>
    public static void Run(Action action, double seconds = 1.0)
    {
        var clock = Stopwatch.StartNew();
        var calls = 0;
        while ((calls < 30 || clock.Elapsed.TotalSeconds < seconds) && clock.Elapsed.TotalSeconds < 10)
        {
            action();
            calls++;
        }
    }
}
