using Microsoft.ML.OnnxRuntime;
using PruneGen.Model;
using PruneGen.Onnx;

namespace PruneGen.Tests.Onnx;

/// <summary>Runs exported models in ONNX Runtime and compares them with PruneGen's generated Forward.</summary>
internal static class OrtOracle
{
    /// <summary>Relative tolerance: |ort − ours| ≤ Tolerance · max(1, |ort|) for every element.</summary>
    public const float Tolerance = 1e-4f;

    /// <summary>
    /// He-uniform weights from <paramref name="seed"/>, then non-trivial values where He leaves constants:
    /// biases in [−0.1, 0.1], BatchNorm γ in [0.5, 1.5], β and running mean in [−0.5, 0.5], running
    /// variance in [0.5, 1.5], so that no bias or BatchNorm is an identity the export could get wrong unnoticed.
    /// </summary>
    public static void Randomize(INetwork network, int seed)
    {
        Initializer.HeUniform(network, seed);
        var random = new Random(seed ^ 0x5EED);
        foreach (var layer in network.Graph.Layers)
        {
            foreach (var spec in layer.Parameters)
            {
                var suffix = spec.Name[(spec.Name.LastIndexOf('.') + 1)..];
                var (low, high) = (layer.Kind, suffix) switch
                {
                    (LayerKind.BatchNorm, "weight" or "running_var") => (0.5f, 1.5f),
                    (LayerKind.BatchNorm, _) => (-0.5f, 0.5f),
                    (_, "bias") => (-0.1f, 0.1f),
                    _ => (0f, 0f),
                };
                if (high > low)
                {
                    Fill(network.Parameters[spec.Name].Data, random, low, high);
                }
            }
        }
    }

    /// <summary>Uniform random values in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public static float[] RandomArray(int length, int seed, float low = -1f, float high = 1f)
    {
        var data = new float[length];
        Fill(data, new Random(seed), low, high);
        return data;
    }

    /// <summary>A single-threaded session (the machine's cores are shared) over <paramref name="model"/>.</summary>
    public static InferenceSession CreateSession(byte[] model)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        return new InferenceSession(model, options);
    }

    /// <summary>The ONNX shape of <paramref name="batch"/> samples of <paramref name="shape"/>: [N, C] or [N, C, H, W].</summary>
    public static long[] OnnxShape(TensorShape shape, int batch) => shape.Flat
        ? new long[] { batch, shape.Channels }
        : new long[] { batch, shape.Channels, shape.Height, shape.Width };

    /// <summary>Runs <paramref name="session"/> on <paramref name="input"/> and returns the output, checking its shape.</summary>
    public static float[] Run(InferenceSession session, NetworkGraph graph, float[] input, int batch)
    {
        using var value = OrtValue.CreateTensorValueFromMemory(input, OnnxShape(graph.InputShape, batch));
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, new[] { OnnxExporter.InputName }, new[] { value }, new[] { OnnxExporter.OutputName });
        var result = outputs[0];
        Assert.Equal(OnnxShape(graph.OutputShape, batch), result.GetTensorTypeAndShape().Shape);
        return result.GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>Runs the generated Forward of <paramref name="network"/>.</summary>
    public static float[] Forward(INetwork network, float[] input, int batch)
    {
        var output = new float[batch * network.OutputSize];
        network.Forward(input, output, batch);
        return output;
    }

    /// <summary>Asserts |ort − ours| ≤ <see cref="Tolerance"/> · max(1, |ort|) everywhere, naming the worst element.</summary>
    public static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = -1;
        var worstRatio = 0f;
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(float.IsFinite(expected[i]), $"{what}: ONNX Runtime gave a non-finite value {expected[i]} at {i}.");
            var ratio = MathF.Abs(expected[i] - actual[i]) / (Tolerance * MathF.Max(1f, MathF.Abs(expected[i])));
            if (float.IsNaN(ratio))
            {
                ratio = float.PositiveInfinity; // a NaN of ours; the first one is reported
            }

            if (ratio > worstRatio)
            {
                worstRatio = ratio;
                worst = i;
            }
        }

        if (worstRatio > 1f)
        {
            Assert.Fail($"{what}: element {worst} is {actual[worst]} in PruneGen but {expected[worst]} in ONNX Runtime " +
                $"(error {worstRatio:F2}× the tolerance {Tolerance}·max(1,|ort|)).");
        }
    }

    private static void Fill(float[] data, Random random, float low, float high)
    {
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = low + ((float)random.NextDouble() * (high - low));
        }
    }
}
