using BenchmarkDotNet.Attributes;
using PruneGen.Benchmarks.Workloads;

namespace PruneGen.Benchmarks.Benchmarks;

/// <summary>One training step at batch 64: TrainForward + SoftmaxCrossEntropy + Backward + Sgd.Update.</summary>
[Config(typeof(ThreadJobsConfig))]
public class TrainingBenchmarks
{
    private TrainingStep? _step;

    /// <summary>The reference network.</summary>
    [ParamsSource(nameof(Networks))]
    public string Network { get; set; } = "Mlp";

    /// <summary>The networks to run.</summary>
    public static System.Collections.Generic.IEnumerable<string> Networks => ReferenceNetworks.Names;

    /// <summary>Samples per step.</summary>
    public const int Batch = 64;

    /// <summary>Builds the network and trains until the JIT has optimized the code (allocating the training workspace and optimizer state).</summary>
    [GlobalSetup]
    public void Setup()
    {
        _step = new TrainingStep(Network, Batch);
        Warmup.Run(_step.Run);
    }

    /// <summary>One SGD step.</summary>
    [Benchmark]
    public void TrainStep() => _step!.Run();
}
