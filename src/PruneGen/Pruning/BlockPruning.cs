using System;
using System.Collections.Generic;
using System.Linq;
using PruneGen.Data;
using PruneGen.Model;
using PruneGen.Model.Pruning;
using PruneGen.Training;

namespace PruneGen.Pruning;

/// <summary>How much one residual block or one removable plain layer matters.</summary>
/// <param name="Name">The block's name (e.g. <c>s2b2</c>) or the layer's (e.g. <c>conv4</c>).</param>
/// <param name="UnremovableReason">Why it cannot be removed, or null.</param>
/// <param name="Influence">Influence: 1 − mean cosine similarity of its input and output over calibration samples (0: it changes nothing).</param>
/// <param name="LossIncrease">Calibration loss with it removed minus the loss with it (measured on the masked network, at inference).</param>
public sealed record DepthScore(string Name, string? UnremovableReason, double Influence, double LossIncrease)
{
    /// <summary>Whether it may be removed.</summary>
    public bool Removable => UnremovableReason is null;
}

/// <summary>Which depth score ranks blocks or layers for removal.</summary>
public enum BlockCriterion
{
    /// <summary>Lowest influence first.</summary>
    Influence,

    /// <summary>Smallest measured loss increase first.</summary>
    LossIncrease,
}

/// <summary>
/// Depth pruning: scores residual blocks (<see cref="Score"/>) or plain layers whose removal keeps shapes
/// valid (<see cref="ScoreLayers"/>) and picks whole ones to remove (<see cref="Select"/>).
/// </summary>
public static class BlockPruning
{
    /// <summary>Scores every residual block of <paramref name="network"/> on <paramref name="calibration"/> (the first batches × batchSize samples).</summary>
    public static IReadOnlyList<DepthScore> Score(ITrainableNetwork network, Dataset calibration, int batches = 8, int batchSize = 64)
    {
        ArgumentNullException.ThrowIfNull(network);
        var units = ResidualBlocks.Analyze(network.Graph).Select(b => new Unit(
            b.Name, b.InputLayer, b.OutputLayer, b.UnremovableReason, [b.ResidualNorm + ".weight", b.ResidualNorm + ".bias"],
            p =>
            {
                Array.Clear(p[b.ResidualNorm + ".weight"].Data);
                Array.Clear(p[b.ResidualNorm + ".bias"].Data);
            })).ToArray();
        return ScoreUnits(network, calibration, batches, batchSize, units);
    }

    /// <summary>
    /// Scores every convolution and dense layer outside the residual blocks (<see cref="RemovableLayers"/>): its
    /// influence over its chain (layer, BatchNorm, activation) and the loss increase when it is replaced by the identity.
    /// </summary>
    public static IReadOnlyList<DepthScore> ScoreLayers(ITrainableNetwork network, Dataset calibration, int batches = 8, int batchSize = 64)
    {
        ArgumentNullException.ThrowIfNull(network);
        var graph = network.Graph;
        var units = RemovableLayers.Analyze(graph).Select(l =>
        {
            var parameters = l.Members.SelectMany(m => graph.Find(m)!.Parameters).Select(p => p.Name).ToArray();
            Action<ParameterSet>? remove = null;
            if (l.Removable)
            {
                var plan = new PruningPlan(PruningPlan.CurrentVersion, graph.Name, "depth", 0, EquatableArray<PlanGroup>.Empty, EquatableArray<string>.Empty, null) { RemovedLayers = new EquatableArray<string>([l.Name]) };
                remove = PruningMask.Create(graph, plan).Apply;
            }

            return new Unit(l.Name, l.InputLayer, l.OutputLayer, l.UnremovableReason, parameters, remove ?? (_ => { }));
        }).ToArray();
        return ScoreUnits(network, calibration, batches, batchSize, units);
    }

    /// <summary>The <paramref name="count"/> removable blocks (or layers) that matter least by <paramref name="criterion"/>.</summary>
    /// <exception cref="InvalidOperationException">Fewer than <paramref name="count"/> are removable.</exception>
    public static IReadOnlyList<string> Select(IReadOnlyList<DepthScore> scores, int count, BlockCriterion criterion = BlockCriterion.Influence)
    {
        ArgumentNullException.ThrowIfNull(scores);
        var removable = scores.Where(s => s.Removable).ToList();
        if (count > removable.Count)
        {
            var reasons = string.Join("; ", scores.Where(s => !s.Removable).Select(s => s.UnremovableReason));
            throw new InvalidOperationException($"Asked to remove {count}, but only {removable.Count} can be removed ({string.Join(", ", removable.Select(s => s.Name))}){(reasons.Length == 0 ? "." : ": " + reasons + ".")}");
        }

        return removable.OrderBy(s => criterion == BlockCriterion.Influence ? s.Influence : s.LossIncrease).Take(count).Select(s => s.Name).OrderBy(b => b, StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// Influence from training-mode calibration passes, then the loss increase at inference with <see cref="Unit.Remove"/>
    /// applied (its <see cref="Unit.Parameters"/> are restored afterwards).
    /// </summary>
    private static List<DepthScore> ScoreUnits(ITrainableNetwork network, Dataset calibration, int batches, int batchSize, Unit[] units)
    {
        ArgumentNullException.ThrowIfNull(calibration);
        var graph = network.Graph;
        var cosSum = new double[units.Length];
        long samples = 0;
        var context = new ImportanceContext(network, calibration, batches, batchSize);
        context.ForEachCalibrationBatch("depth influence", (net, _, count, _) =>
        {
            for (var k = 0; k < units.Length; k++)
            {
                var u = units[k];
                var size = graph.ShapeOf(u.Output).Size;
                if (graph.ShapeOf(u.Input).Size != size)
                {
                    continue;
                }

                var x = net.TrainingActivation(u.Input);
                var y = net.TrainingActivation(u.Output);
                for (var n = 0; n < count; n++)
                {
                    cosSum[k] += Cosine(x.Slice(n * size, size), y.Slice(n * size, size));
                }
            }

            samples += count;
        });

        var subset = calibration.Slice(0, Math.Min(calibration.Count, batches * batchSize));
        var baseLoss = Trainer.Evaluate(network, subset, batchSize).Loss;
        var result = new List<DepthScore>();
        for (var k = 0; k < units.Length; k++)
        {
            var u = units[k];
            var lossIncrease = double.NaN;
            if (u.UnremovableReason is null)
            {
                var saved = u.Parameters.Select(n => (float[])network.Parameters[n].Data.Clone()).ToArray();
                u.Remove(network.Parameters);
                lossIncrease = Trainer.Evaluate(network, subset, batchSize).Loss - baseLoss;
                for (var i = 0; i < saved.Length; i++)
                {
                    saved[i].CopyTo(network.Parameters[u.Parameters[i]].Data, 0);
                }
            }

            var influence = graph.ShapeOf(u.Input).Size == graph.ShapeOf(u.Output).Size ? 1 - (cosSum[k] / Math.Max(samples, 1)) : double.NaN;
            result.Add(new DepthScore(u.Name, u.UnremovableReason, influence, lossIncrease));
        }

        return result;
    }

    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return na == 0 || nb == 0 ? (na == nb ? 1 : 0) : dot / Math.Sqrt(na * nb);
    }

    /// <summary>A removable unit: what it reads and produces, and how its masked removal is applied.</summary>
    private sealed record Unit(string Name, int Input, int Output, string? UnremovableReason, string[] Parameters, Action<ParameterSet> Remove);
}
