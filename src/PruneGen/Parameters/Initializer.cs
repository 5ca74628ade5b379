using System;
using PruneGen.Model;

namespace PruneGen;

/// <summary>Seeded parameter initialization.</summary>
public static class Initializer
{
    /// <summary>
    /// He (Kaiming) uniform initialization for weights (bound √(6 / fan_in), suited to ReLU), zero
    /// biases, BatchNorm γ = 1, β = 0, running mean 0 and variance 1. The same seed gives the same values.
    /// </summary>
    public static void HeUniform(INetwork network, int seed) => Initialize(network, seed, (fanIn, _) => MathF.Sqrt(6f / fanIn));

    /// <summary>
    /// Xavier (Glorot) uniform initialization for weights (bound √(6 / (fan_in + fan_out)), suited to
    /// tanh and sigmoid); biases and BatchNorm as in <see cref="HeUniform"/>.
    /// </summary>
    public static void XavierUniform(INetwork network, int seed) => Initialize(network, seed, (fanIn, fanOut) => MathF.Sqrt(6f / (fanIn + fanOut)));

    /// <summary>Weights uniform in ±bound(fan_in, fan_out); fan_out counts the receptive field, as PyTorch does.</summary>
    private static void Initialize(INetwork network, int seed, Func<int, int, float> bound)
    {
        ArgumentNullException.ThrowIfNull(network);
        var random = new Random(seed);
        foreach (var layer in network.Graph.Layers)
        {
            foreach (var spec in layer.Parameters)
            {
                var data = network.Parameters[spec.Name].Data;
                var suffix = spec.Name.Substring(spec.Name.LastIndexOf('.') + 1);
                if (layer.Kind == LayerKind.BatchNorm)
                {
                    Array.Fill(data, suffix is "weight" or "running_var" ? 1f : 0f);
                }
                else if (suffix == "weight")
                {
                    var fanIn = spec.Length / spec.Shape[0];
                    var fanOut = spec.Length / spec.Shape[1];
                    var b = bound(fanIn, fanOut);
                    for (var i = 0; i < data.Length; i++)
                    {
                        data[i] = (((float)random.NextDouble() * 2f) - 1f) * b;
                    }
                }
                else
                {
                    Array.Clear(data);
                }
            }
        }
    }
}
