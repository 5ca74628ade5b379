using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using PruneGen.Benchmarks.Workloads;

namespace PruneGen.Benchmarks.Benchmarks;

/// <summary>
/// Realized pruning speed-up: each compiled pruned network's Forward against its unpruned base's (the baseline) at the
/// same batch and thread count, both with the reference weights. Ratio = pruned time / base time, so 1 / Ratio is the
/// speed-up to hold against the MAC ratio (the GFLOP/s column is each network's own MACs over its time).
/// </summary>
[Config(typeof(ThreadJobsConfig))]
public class PruningSpeedupBenchmarks
{
    private PruneGenRunner? _base;
    private PruneGenRunner? _pruned;

    /// <summary>The compiled pruned network; its base is <see cref="ReferenceNetworks.BaseOf"/>.</summary>
    [ParamsSource(nameof(PrunedNetworks))]
    public string Network { get; set; } = "VggNetL1Half";

    /// <summary>Samples per call.</summary>
    [Params(1, 64)]
    public int Batch { get; set; } = 1;

    /// <summary>The pruned networks to run.</summary>
    public static IEnumerable<string> PrunedNetworks => ReferenceNetworks.Pruned;

    /// <summary>Builds the base network and runs it once (allocating its workspace).</summary>
    [GlobalSetup(Target = nameof(Base))]
    public void SetupBase() => _base = Runner(ReferenceNetworks.BaseOf(Network));

    /// <summary>Builds the pruned network and runs it once.</summary>
    [GlobalSetup(Target = nameof(Pruned))]
    public void SetupPruned() => _pruned = Runner(Network);

    /// <summary>The unpruned network.</summary>
    [Benchmark(Baseline = true)]
    public void Base() => _base!.Run();

    /// <summary>The compiled pruned network.</summary>
    [Benchmark]
    public void Pruned() => _pruned!.Run();

    private PruneGenRunner Runner(string name)
    {
        var network = ReferenceNetworks.CreateForInference(name);
        var runner = new PruneGenRunner(network, ReferenceNetworks.RandomImages(network, Batch, seed: 5), Batch);
        Warmup.Run(runner.Run);
        return runner;
    }
}
