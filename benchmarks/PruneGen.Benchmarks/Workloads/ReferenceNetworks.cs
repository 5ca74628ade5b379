using System;
using System.Collections.Generic;
using System.Linq;
using PruneGen.Examples.Networks;
using PruneGen.Model;

namespace PruneGen.Benchmarks.Workloads;

/// <summary>The four reference networks of docs/BENCHMARKS.md, with seeded weights and inputs.</summary>
public static class ReferenceNetworks
{
    /// <summary>Names in the order the tables list them.</summary>
    public static IReadOnlyList<string> Names { get; } = new[] { "Mlp", "LeNet5", "VggNet", "TinyResNet" };

    /// <summary>Compiled pruned networks (not in the default tables; pass them with <c>--networks</c>): VGG and the tiny ResNet at 1/2 and 1/4 of their MACs.</summary>
    public static IReadOnlyList<string> Pruned { get; } = new[] { "VggNetL1Half", "VggNetL1Quarter", "TinyResNetL1Half", "TinyResNetL1Quarter" };

    /// <summary>The unpruned network a pruned one was compiled from (a reference network is its own base).</summary>
    public static string BaseOf(string name) => name switch
    {
        "VggNetL1Half" or "VggNetL1Quarter" => "VggNet",
        "TinyResNetL1Half" or "TinyResNetL1Quarter" => "TinyResNet",
        _ => name,
    };

    /// <summary>Seed of every weight tensor (the same weights go to PruneGen and to the ONNX export).</summary>
    public const int WeightSeed = 20261;

    /// <summary>A new, untrained instance of the network called <paramref name="name"/>.</summary>
    public static ITrainableNetwork Create(string name) => name switch
    {
        "Mlp" => new Mlp(),
        "LeNet5" => new LeNet5(),
        "VggNet" => new VggNet(),
        "TinyResNet" => new TinyResNet(),
        "VggNetL1Half" => new VggNetL1Half(),
        "VggNetL1Quarter" => new VggNetL1Quarter(),
        "TinyResNetL1Half" => new TinyResNetL1Half(),
        "TinyResNetL1Quarter" => new TinyResNetL1Quarter(),
        _ => throw new ArgumentException($"Unknown network '{name}'; expected one of {string.Join(", ", Names.Concat(Pruned))}.", nameof(name)),
    };

    /// <summary>Multiply-accumulates per sample of the network called <paramref name="name"/>.</summary>
    public static long Macs(string name) => name switch
    {
        "Mlp" => Mlp.TotalMacs,
        "LeNet5" => LeNet5.TotalMacs,
        "VggNet" => VggNet.TotalMacs,
        "TinyResNet" => TinyResNet.TotalMacs,
        "VggNetL1Half" => VggNetL1Half.TotalMacs,
        "VggNetL1Quarter" => VggNetL1Quarter.TotalMacs,
        "TinyResNetL1Half" => TinyResNetL1Half.TotalMacs,
        "TinyResNetL1Quarter" => TinyResNetL1Quarter.TotalMacs,
        _ => throw new ArgumentException($"Unknown network '{name}'.", nameof(name)),
    };

    /// <summary>
    /// The network with inference weights: He-uniform weights, then non-trivial values where He leaves
    /// constants (biases in ±0.1, BatchNorm γ and running variance in [0.5, 1.5], β and running mean
    /// in ±0.5), so that no layer is an identity either runtime could skip.
    /// </summary>
    public static ITrainableNetwork CreateForInference(string name)
    {
        var network = Create(name);
        Initializer.HeUniform(network, WeightSeed);
        var random = new Random(WeightSeed ^ 0x5EED);
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

        return network;
    }

    /// <summary>The network with fresh training weights (He-uniform, the library's default initialization).</summary>
    public static ITrainableNetwork CreateForTraining(string name)
    {
        var network = Create(name);
        Initializer.HeUniform(network, WeightSeed);
        return network;
    }

    /// <summary><paramref name="batch"/> random images with pixel values in [0, 1).</summary>
    public static float[] RandomImages(INetwork network, int batch, int seed)
    {
        var data = new float[batch * network.InputSize];
        Fill(data, new Random(seed), 0f, 1f);
        return data;
    }

    /// <summary><paramref name="batch"/> random labels in [0, classes).</summary>
    public static int[] RandomLabels(int batch, int classes, int seed)
    {
        var random = new Random(seed);
        var labels = new int[batch];
        for (var i = 0; i < batch; i++)
        {
            labels[i] = random.Next(classes);
        }

        return labels;
    }

    private static void Fill(float[] data, Random random, float low, float high)
    {
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = low + ((float)random.NextDouble() * (high - low));
        }
    }
}
