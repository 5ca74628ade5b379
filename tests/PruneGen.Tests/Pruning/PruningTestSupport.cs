using PruneGen.Model;
using PruneGen.Model.Pruning;
using PruneGen.Pruning;
using PruneGen.Tests.Reference;

namespace PruneGen.Tests.Pruning;

/// <summary>Plans, oracles and comparisons the pruning tests share.</summary>
internal static class PruningTestSupport
{
    /// <summary>A plan (version 1) for <paramref name="network"/> keeping <paramref name="kept"/> per group.</summary>
    public static PruningPlan Plan(INetwork network, params (string Group, int[] Kept)[] kept) => Plan(network, [], kept);

    /// <summary>A plan removing <paramref name="blocks"/> and keeping <paramref name="kept"/> per group.</summary>
    public static PruningPlan Plan(INetwork network, string[] blocks, params (string Group, int[] Kept)[] kept)
    {
        var groups = ChannelGroups.Analyze(network.Graph);
        var entries = kept.Select(k => new PlanGroup(k.Group, groups.Find(k.Group)?.Channels ?? -1, new EquatableArray<int>(k.Kept))).ToArray();
        return new PruningPlan(PruningPlan.CurrentVersion, network.Graph.Name, "test", 1, new EquatableArray<PlanGroup>(entries), new EquatableArray<string>(blocks), null);
    }

    /// <summary>The pruned weights as a parameter set of their own graph (each tensor made from its spec, data copied in).</summary>
    public static ParameterSet ToParameterSet(PrunedWeights pruned)
    {
        var set = new ParameterSet(pruned.Graph.AllParameters.Select(s => new ParameterTensor(s)).ToArray());
        pruned.CopyTo(set);
        return set;
    }

    /// <summary>The pruned network's output on <paramref name="input"/>, computed by the double-precision reference interpreter of its graph.</summary>
    public static float[] RunPruned(PrunedWeights pruned, float[] input, int batch)
    {
        var reference = new DoubleReference(pruned.Graph, ToParameterSet(pruned));
        return reference.Forward(input.Select(v => (double)v).ToArray(), batch, training: false).Select(v => (float)v).ToArray();
    }

    /// <summary>Inference output of <paramref name="network"/>.</summary>
    public static float[] Forward(INetwork network, float[] input, int batch)
    {
        var output = new float[batch * network.OutputSize];
        network.Forward(input, output, batch);
        return output;
    }

    /// <summary>A copy of every parameter's data (to restore or compare).</summary>
    public static float[][] Snapshot(INetwork network) => network.Parameters.Select(p => (float[])p.Data.Clone()).ToArray();

    /// <summary>"parameter@axis+offset×width" for readable slice comparisons.</summary>
    public static string Describe(ChannelSlice s) => s.Parameter.Length == 0
        ? $"{s.Layer}+{s.Offset}x{s.Width}"
        : $"{s.Parameter}@{s.Axis}+{s.Offset}x{s.Width}";

    /// <summary>A seeded data set of <paramref name="count"/> samples shaped like <paramref name="network"/>'s input, labels below its output size.</summary>
    public static PruneGen.Data.Dataset RandomDataset(INetwork network, int count, int seed)
    {
        var shape = network.Graph.InputShape;
        var images = Numerics.Numerics.RandomInput(count * shape.Size, seed);
        var random = new Random(seed + 1);
        var labels = Enumerable.Range(0, count).Select(_ => (byte)random.Next(network.OutputSize)).ToArray();
        return new PruneGen.Data.Dataset("random", images, labels, shape.Channels, shape.Height, shape.Width, network.OutputSize, PruneGen.Data.Normalization.UnitRange);
    }
}
