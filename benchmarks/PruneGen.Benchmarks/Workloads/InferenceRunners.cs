using System;
using Microsoft.ML.OnnxRuntime;
using PruneGen.Model;
using PruneGen.Onnx;

namespace PruneGen.Benchmarks.Workloads;

/// <summary>PruneGen's generated <see cref="INetwork.Forward"/> on a fixed input and output buffer.</summary>
public sealed class PruneGenRunner
{
    private readonly INetwork _network;
    private readonly float[] _input;

    /// <summary>Creates the runner; the first <see cref="Run"/> allocates the network's workspace, later ones nothing.</summary>
    public PruneGenRunner(INetwork network, float[] input, int batch)
    {
        _network = network;
        _input = input;
        Batch = batch;
        Output = new float[batch * network.OutputSize];
    }

    /// <summary>Samples per call.</summary>
    public int Batch { get; }

    /// <summary>The output of the last <see cref="Run"/>.</summary>
    public float[] Output { get; }

    /// <summary>One inference call.</summary>
    public void Run() => _network.Forward(_input, Output, Batch);
}

/// <summary>
/// ONNX Runtime (CPU execution provider) on the network exported with <see cref="OnnxExporter"/>.
/// Input and output are pre-allocated <see cref="OrtValue"/>s over pinned managed arrays, bound once
/// with an <see cref="OrtIoBinding"/>, so <see cref="Run"/> is the session's run and nothing else.
/// </summary>
public sealed class OrtRunner : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly OrtValue _inputValue;
    private readonly OrtValue _outputValue;
    private readonly OrtIoBinding _binding;

    /// <summary>Exports <paramref name="network"/> and opens a session with <paramref name="threads"/> intra-op threads.</summary>
    public OrtRunner(INetwork network, float[] input, int batch, int threads)
    {
        var model = OnnxExporter.Export(network);
        using (var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        })
        {
            _session = new InferenceSession(model, options);
        }

        Batch = batch;
        Threads = threads;
        Output = new float[batch * network.OutputSize];
        _inputValue = OrtValue.CreateTensorValueFromMemory(input, Shape(network.Graph.InputShape, batch));
        _outputValue = OrtValue.CreateTensorValueFromMemory(Output, Shape(network.Graph.OutputShape, batch));
        _binding = _session.CreateIoBinding();
        _binding.BindInput(OnnxExporter.InputName, _inputValue);
        _binding.BindOutput(OnnxExporter.OutputName, _outputValue);
    }

    /// <summary>Samples per call.</summary>
    public int Batch { get; }

    /// <summary>Intra-op threads of the session.</summary>
    public int Threads { get; }

    /// <summary>The output of the last <see cref="Run"/> (ONNX Runtime writes into it directly).</summary>
    public float[] Output { get; }

    /// <summary>One inference call.</summary>
    public void Run() => _session.RunWithBinding(_runOptions, _binding);

    /// <inheritdoc />
    public void Dispose()
    {
        _binding.Dispose();
        _inputValue.Dispose();
        _outputValue.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }

    private static long[] Shape(TensorShape shape, int batch) => shape.Flat
        ? new long[] { batch, shape.Channels }
        : new long[] { batch, shape.Channels, shape.Height, shape.Width };
}

/// <summary>Largest relative difference |a − b| / max(1, |a|) between two outputs.</summary>
public static class OutputComparison
{
    /// <summary>Compares <paramref name="reference"/> (ONNX Runtime) with <paramref name="actual"/> (PruneGen).</summary>
    public static double MaxRelativeError(ReadOnlySpan<float> reference, ReadOnlySpan<float> actual)
    {
        if (reference.Length != actual.Length)
        {
            throw new ArgumentException($"Outputs differ in length: {reference.Length} and {actual.Length}.", nameof(actual));
        }

        var worst = 0.0;
        for (var i = 0; i < reference.Length; i++)
        {
            var error = Math.Abs((double)reference[i] - actual[i]) / Math.Max(1.0, Math.Abs(reference[i]));
            worst = double.IsNaN(error) ? double.PositiveInfinity : Math.Max(worst, error);
        }

        return worst;
    }
}
