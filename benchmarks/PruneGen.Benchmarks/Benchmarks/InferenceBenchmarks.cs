using BenchmarkDotNet.Attributes;
using PruneGen.Benchmarks.Workloads;
using PruneGen.Kernels;

namespace PruneGen.Benchmarks.Benchmarks;

/// <summary>
/// Inference latency: PruneGen's generated Forward (the baseline) against ONNX Runtime running the
/// same network exported with the same weights. Ratio = ONNX Runtime time / PruneGen time, so a
/// ratio above 1 means PruneGen is faster.
/// </summary>
[Config(typeof(ThreadJobsConfig))]
public class InferenceBenchmarks
{
    private PruneGenRunner? _pruneGen;
    private OrtRunner? _ort;

    /// <summary>The reference network.</summary>
    [ParamsSource(nameof(Networks))]
    public string Network { get; set; } = "Mlp";

    /// <summary>Samples per call.</summary>
    [Params(1, 64)]
    public int Batch { get; set; } = 1;

    /// <summary>The networks to run.</summary>
    public static System.Collections.Generic.IEnumerable<string> Networks => ReferenceNetworks.Names;

    /// <summary>Builds PruneGen's network and runs it once (allocating its workspace).</summary>
    [GlobalSetup(Target = nameof(PruneGen))]
    public void SetupPruneGen()
    {
        var network = ReferenceNetworks.CreateForInference(Network);
        _pruneGen = new PruneGenRunner(network, ReferenceNetworks.RandomImages(network, Batch, seed: 5), Batch);
        Warmup.Run(_pruneGen.Run);
    }

    /// <summary>Exports the same network and weights, opens an ONNX Runtime session with as many threads as PruneGen's pool.</summary>
    [GlobalSetup(Target = nameof(OnnxRuntime))]
    public void SetupOrt()
    {
        var network = ReferenceNetworks.CreateForInference(Network);
        _ort = new OrtRunner(network, ReferenceNetworks.RandomImages(network, Batch, seed: 5), Batch, WorkerPool.Workers);
        Warmup.Run(_ort.Run);
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    [GlobalCleanup]
    public void Cleanup() => _ort?.Dispose();

    /// <summary>PruneGen: generated Forward.</summary>
    [Benchmark(Baseline = true)]
    public void PruneGen() => _pruneGen!.Run();

    /// <summary>ONNX Runtime: InferenceSession.RunWithBinding on pre-bound input and output.</summary>
    [Benchmark]
    public void OnnxRuntime() => _ort!.Run();
}
