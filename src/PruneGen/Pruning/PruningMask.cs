using System;
using System.Collections.Generic;
using System.Linq;
using PruneGen.Model;
using PruneGen.Model.Pruning;

namespace PruneGen.Pruning;

/// <summary>The indices a plan removes from one parameter tensor, along its first two axes.</summary>
/// <param name="Parameter">Full parameter name.</param>
/// <param name="Shape">The base tensor's shape.</param>
/// <param name="Rows">Removed indices along axis 0 (output channels / features), ascending.</param>
/// <param name="Columns">Removed indices along axis 1 (input channels / features), ascending.</param>
public sealed record ParameterCut(string Parameter, IReadOnlyList<int> Shape, int[] Rows, int[] Columns)
{
    /// <summary>Elements per index of axis 1 (the product of the dimensions after it).</summary>
    public int Inner => Shape.Skip(2).Aggregate(1, (a, b) => a * b);
}

/// <summary>
/// A plan applied as masks on the unpruned network: every parameter entry the plan removes is held at
/// zero. A removed channel's producer rows, bias and BatchNorm γ/β are zero, so its activation after
/// normalization is 0, and every consumer's input column for it is zero too, so nothing downstream can
/// depend on it whatever the activation function does with 0. A removed residual block has its
/// branch's last BatchNorm γ/β zeroed, so the block computes relu(x + 0) = x on its non-negative input.
/// The masked network therefore computes exactly what the physically pruned one does — so an iterative
/// search can try plans without compiling anything. Re-apply after each optimizer step when fine-tuning.
/// A removed plain layer (<see cref="PruningPlan.RemovedLayers"/>) becomes the identity: an identity kernel or
/// matrix, a zero bias, and a BatchNorm with γ = 1, β = 0, mean 0 and variance 1 − ε, so its chain computes
/// relu(x) = x on its non-negative input. That is exact at inference only — in training mode a BatchNorm
/// normalizes with the batch's statistics — so fine-tune a plan that removes layers on the compiled network
/// (<see cref="ExactInTraining"/> is false for it).
/// </summary>
public sealed class PruningMask
{
    private readonly ParameterCut[] _cuts;
    private readonly string[] _silenced;
    private readonly (string Parameter, float[] Values)[] _identities;

    private PruningMask(PruningPlan plan, ParameterCut[] cuts, string[] silenced, (string, float[])[] identities)
    {
        Plan = plan;
        _cuts = cuts;
        _silenced = silenced;
        _identities = identities;
    }

    /// <summary>
    /// Whether the masked network equals the pruned one in training mode too (so fine-tuning on the mask is
    /// fine-tuning the pruned network): false when the plan removes plain layers, whose identity BatchNorm
    /// holds only at inference.
    /// </summary>
    public bool ExactInTraining => _identities.Length == 0;

    /// <summary>The plan the mask applies.</summary>
    public PruningPlan Plan { get; }

    /// <summary>What is cut from each parameter tensor (tensors the plan leaves whole are absent).</summary>
    public IReadOnlyList<ParameterCut> Cuts => _cuts;

    /// <summary>Builds the mask of <paramref name="plan"/> for <paramref name="network"/> (the plan must be valid for it).</summary>
    public static PruningMask Create(INetwork network, PruningPlan plan)
    {
        ArgumentNullException.ThrowIfNull(network);
        return Create(network.Graph, plan);
    }

    /// <summary>Builds the mask of <paramref name="plan"/> (which must be valid for <paramref name="graph"/>).</summary>
    public static PruningMask Create(NetworkGraph graph, PruningPlan plan)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(plan);
        var groups = ChannelGroups.Analyze(PlanValidator.GroupGraph(graph, plan.RemovedLayers));
        var rows = new Dictionary<string, SortedSet<int>>(StringComparer.Ordinal);
        var columns = new Dictionary<string, SortedSet<int>>(StringComparer.Ordinal);
        foreach (var entry in plan.Groups)
        {
            var group = groups.Find(entry.Name) ?? throw new ArgumentException($"Plan group '{entry.Name}' is not a group of '{graph.Name}'; validate the plan first (PlanFile.Validate).", nameof(plan));
            var kept = new HashSet<int>(entry.Kept);
            var removed = Enumerable.Range(0, group.Channels).Where(c => !kept.Contains(c)).ToArray();
            foreach (var slice in group.Slices)
            {
                var target = slice.Axis == 0 ? rows : columns;
                if (!target.TryGetValue(slice.Parameter, out var set))
                {
                    set = new SortedSet<int>();
                    target.Add(slice.Parameter, set);
                }

                foreach (var c in removed)
                {
                    for (var s = 0; s < slice.Width; s++)
                    {
                        set.Add(slice.Offset + (c * slice.Width) + s);
                    }
                }
            }
        }

        var blocks = ResidualBlocks.Analyze(graph);
        var silenced = new List<string>();
        foreach (var b in plan.RemovedBlocks)
        {
            var block = blocks.FirstOrDefault(x => x.Name == b) ?? throw new ArgumentException($"Plan block '{b}' is not a residual block of '{graph.Name}'.", nameof(plan));
            silenced.Add(block.ResidualNorm + ".weight");
            silenced.Add(block.ResidualNorm + ".bias");
        }

        var identities = new List<(string, float[])>();
        var layers = RemovableLayers.Analyze(graph);
        foreach (var name in plan.RemovedLayers)
        {
            var info = layers.FirstOrDefault(x => x.Name == name && x.Removable) ?? throw new ArgumentException($"Plan layer '{name}' is not a removable layer of '{graph.Name}'; validate the plan first (PlanFile.Validate).", nameof(plan));
            foreach (var member in info.Members)
            {
                var layer = graph.Find(member)!;
                foreach (var spec in layer.Parameters)
                {
                    identities.Add((spec.Name, IdentityValues(layer, spec)));
                }
            }
        }

        var cuts = new List<ParameterCut>();
        foreach (var spec in graph.AllParameters)
        {
            var r = rows.TryGetValue(spec.Name, out var rs) ? rs.ToArray() : [];
            var c = columns.TryGetValue(spec.Name, out var cs) ? cs.ToArray() : [];
            if (r.Length > 0 || c.Length > 0)
            {
                cuts.Add(new ParameterCut(spec.Name, spec.Shape.ToArray(), r, c));
            }
        }

        return new PruningMask(plan, cuts.ToArray(), silenced.ToArray(), identities.ToArray());
    }

    /// <summary>The values that make parameter <paramref name="spec"/> of a removed layer's chain the identity.</summary>
    private static float[] IdentityValues(LayerNode layer, ParameterSpec spec)
    {
        var values = new float[spec.Length];
        var suffix = spec.Name[(spec.Name.LastIndexOf('.') + 1)..];
        switch (layer.Kind, suffix)
        {
            case (LayerKind.Conv2D, "weight"):
                {
                    // [C, C, k, k] with a 1 at the centre tap of the diagonal: with "same" padding that copies the input.
                    var (c, k) = (layer.OutputShape.Channels, layer.Kernel);
                    for (var o = 0; o < c; o++)
                    {
                        values[(((o * c) + o) * k * k) + (layer.Padding * k) + layer.Padding] = 1;
                    }

                    break;
                }

            case (LayerKind.Dense, "weight"):
                for (var o = 0; o < layer.OutputShape.Size; o++)
                {
                    values[(o * layer.OutputShape.Size) + o] = 1;
                }

                break;
            case (LayerKind.BatchNorm, "weight"):
                Array.Fill(values, 1f);
                break;
            case (LayerKind.BatchNorm, "running_var"):
                Array.Fill(values, 1f - NetworkBuilder.BatchNormEpsilon);
                break;
        }

        return values;
    }

    /// <summary>Sets every removed entry of <paramref name="parameters"/> to zero (weights, biases and BatchNorm γ/β; running statistics are left alone — nothing reads them once γ is 0).</summary>
    public void Apply(ParameterSet parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        foreach (var cut in _cuts)
        {
            var p = parameters[cut.Parameter];
            if (!p.Spec.Trainable)
            {
                continue;
            }

            Zero(p.Data, cut);
        }

        foreach (var name in _silenced)
        {
            Array.Clear(parameters[name].Data);
        }

        foreach (var (name, values) in _identities)
        {
            values.CopyTo(parameters[name].Data, 0);
        }
    }

    /// <summary>Zeroes the removed entries of a tensor laid out like the parameter (data, gradient or optimizer state).</summary>
    public static void Zero(Span<float> data, ParameterCut cut)
    {
        ArgumentNullException.ThrowIfNull(cut);
        var d0 = cut.Shape[0];
        var rowLength = data.Length / d0;
        foreach (var r in cut.Rows)
        {
            data.Slice(r * rowLength, rowLength).Clear();
        }

        if (cut.Columns.Length > 0)
        {
            var inner = cut.Inner;
            for (var r = 0; r < d0; r++)
            {
                var row = data.Slice(r * rowLength, rowLength);
                foreach (var c in cut.Columns)
                {
                    row.Slice(c * inner, inner).Clear();
                }
            }
        }
    }
}
