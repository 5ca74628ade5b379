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
    public static void HeUniform(INetwork network, int seed)
    {
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
                    var bound = MathF.Sqrt(6f / fanIn);
                    for (var i = 0; i < data.Length; i++)
                    {
                        data[i] = ((float)random.NextDouble() * 2f - 1f) * bound;
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
