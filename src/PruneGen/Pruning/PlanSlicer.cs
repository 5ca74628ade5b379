using System;
using System.Collections.Generic;
using System.Linq;
using PruneGen.Checkpoints;
using PruneGen.Model;
using PruneGen.Model.Pruning;
using PruneGen.Training;

namespace PruneGen.Pruning;

/// <summary>
/// The weights of a physically pruned network: every parameter of the pruned graph, gathered from the
/// base network's tensor at the kept indices (in the plan's order), and optionally the optimizer state
/// sliced the same way so fine-tuning continues where it was.
/// </summary>
public sealed class PrunedWeights
{
    internal PrunedWeights(NetworkGraph graph, PruningPlan plan, SafetensorsTensor[] tensors, SafetensorsTensor[] optimizerState)
    {
        Graph = graph;
        Plan = plan;
        Tensors = tensors;
        OptimizerState = optimizerState;
    }

    /// <summary>The pruned network's graph (the base declaration built with the plan's overrides).</summary>
    public NetworkGraph Graph { get; }

    /// <summary>The plan that produced it.</summary>
    public PruningPlan Plan { get; }

    /// <summary>Every parameter and running statistic of the pruned network, with its pruned shape.</summary>
    public IReadOnlyList<SafetensorsTensor> Tensors { get; }

    /// <summary>Optimizer state tensors (<c>{parameter}.{state}</c>) sliced like their parameters; empty when none was given.</summary>
    public IReadOnlyList<SafetensorsTensor> OptimizerState { get; }

    /// <summary>The tensor called <paramref name="name"/>.</summary>
    public SafetensorsTensor this[string name] => Tensors.FirstOrDefault(t => t.Name == name)
        ?? throw new KeyNotFoundException($"The pruned network has no parameter '{name}'.");

    /// <summary>Copies the weights into <paramref name="parameters"/> (a pruned network's own parameters).</summary>
    /// <exception cref="ArgumentException">A tensor is missing or has another shape; the message names it.</exception>
    public void CopyTo(ParameterSet parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        foreach (var t in Tensors)
        {
            if (!parameters.TryGet(t.Name, out var p))
            {
                throw new ArgumentException($"The target network has no parameter '{t.Name}'; it is not the pruned network of this plan.", nameof(parameters));
            }

            if (!p.Shape.SequenceEqual(t.Shape))
            {
                throw new ArgumentException($"Parameter '{t.Name}' has shape [{string.Join(", ", p.Shape)}] in the target network, but the pruned weights have [{string.Join(", ", t.Shape)}].", nameof(parameters));
            }

            t.Data.CopyTo(p.Data, 0);
        }
    }

    /// <summary>
    /// Saves the pruned weights as safetensors (atomically), with the plan's JSON in the metadata
    /// (<c>prunegen.plan</c>) so the file says which network it belongs to.
    /// </summary>
    public void Save(string path)
    {
        var file = new SafetensorsFile();
        file.Metadata[Checkpoint.FormatKey] = "pt";
        file.Metadata[Checkpoint.NetworkKey] = Graph.Name;
        file.Metadata["prunegen.plan"] = PlanFile.ToJson(Plan);
        foreach (var t in Tensors)
        {
            file.Add(t);
        }

        file.Write(path);
    }
}

/// <summary>Physical slicing: turns a base network's weights and a plan into the pruned network's weights.</summary>
public static class PlanSlicer
{
    /// <summary>
    /// Slices <paramref name="network"/>'s parameters (and <paramref name="optimizer"/>'s state, if given) to
    /// the pruned shapes of <paramref name="plan"/>. The plan is validated first.
    /// </summary>
    /// <exception cref="PlanException">The plan does not fit the network.</exception>
    public static PrunedWeights Slice(INetwork network, PruningPlan plan, Optimizer? optimizer = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(plan);
        var graph = network.Graph;
        PlanFile.Validate(plan, graph, "plan for " + graph.Name);
        var pruned = NetworkBuilder.BuildOrThrow(graph.Declaration!, PlanValidator.ToOverrides(plan, graph));
        var cuts = PruningMask.Create(graph, plan).Cuts.ToDictionary(c => c.Parameter, StringComparer.Ordinal);
        var tensors = new List<SafetensorsTensor>();
        var state = new List<SafetensorsTensor>();
        foreach (var spec in pruned.AllParameters)
        {
            var source = network.Parameters[spec.Name];
            cuts.TryGetValue(spec.Name, out var cut);
            tensors.Add(new SafetensorsTensor(spec.Name, spec.Shape.ToArray(), Gather(source.Data, source.Shape.ToArray(), cut, spec)));
            if (optimizer is not null && spec.Trainable)
            {
                foreach (var stateName in optimizer.StateNames)
                {
                    if (optimizer.State.TryGetValue(spec.Name + "." + stateName, out var values))
                    {
                        state.Add(new SafetensorsTensor(spec.Name + "." + stateName, spec.Shape.ToArray(), Gather(values, source.Shape.ToArray(), cut, spec)));
                    }
                }
            }
        }

        return new PrunedWeights(pruned, plan, tensors.ToArray(), state.ToArray());
    }

    /// <summary>Copies the entries of <paramref name="data"/> (shaped <paramref name="shape"/>) that <paramref name="cut"/> does not remove.</summary>
    private static float[] Gather(float[] data, int[] shape, ParameterCut? cut, ParameterSpec target)
    {
        if (cut is null)
        {
            if (data.Length != target.Length)
            {
                throw new InvalidOperationException($"Parameter '{target.Name}' is not cut by the plan but changes from {data.Length} to {target.Length} elements; the channel groups and the builder disagree.");
            }

            return (float[])data.Clone();
        }

        var d0 = shape[0];
        var d1 = shape.Length > 1 ? shape[1] : 1;
        var inner = cut.Inner;
        var rows = Complement(d0, cut.Rows);
        var columns = shape.Length > 1 ? Complement(d1, cut.Columns) : [0];
        var result = new float[rows.Length * columns.Length * inner];
        if (result.Length != target.Length)
        {
            throw new InvalidOperationException($"Slicing '{target.Name}' gives {result.Length} elements but the pruned network expects {target.Length} ([{string.Join(", ", target.Shape)}]); the channel groups and the builder disagree.");
        }

        var o = 0;
        foreach (var r in rows)
        {
            foreach (var c in columns)
            {
                Array.Copy(data, ((r * d1) + c) * inner, result, o, inner);
                o += inner;
            }
        }

        return result;
    }

    private static int[] Complement(int n, int[] removed)
    {
        var set = new HashSet<int>(removed);
        return Enumerable.Range(0, n).Where(i => !set.Contains(i)).ToArray();
    }
}
