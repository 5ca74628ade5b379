using System;
using System.Collections.Generic;
using System.Linq;
using PruneGen.Data;
using PruneGen.Model.Pruning;
using PruneGen.Training;

namespace PruneGen.Pruning;

/// <summary>How much one residual block matters.</summary>
/// <param name="Block">The block's name.</param>
/// <param name="UnremovableReason">Why it cannot be removed, or null.</param>
/// <param name="Influence">Block influence: 1 − mean cosine similarity of the block's input and output over calibration samples (0: the block changes nothing).</param>
/// <param name="LossIncrease">Calibration loss with the block removed minus the loss with it (measured on the masked network).</param>
public sealed record BlockScore(string Block, string? UnremovableReason, double Influence, double LossIncrease)
{
    /// <summary>Whether the block may be removed.</summary>
    public bool Removable => UnremovableReason is null;
}

/// <summary>Which block score ranks blocks for removal.</summary>
public enum BlockCriterion
{
    /// <summary>Lowest block influence first.</summary>
    Influence,

    /// <summary>Smallest measured loss increase first.</summary>
    LossIncrease,
}

/// <summary>Depth pruning: scores residual blocks and picks whole blocks to remove.</summary>
public static class BlockPruning
{
    /// <summary>Scores every residual block of <paramref name="network"/> on <paramref name="calibration"/> (the first batches × batchSize samples).</summary>
    public static IReadOnlyList<BlockScore> Score(ITrainableNetwork network, Dataset calibration, int batches = 8, int batchSize = 64)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(calibration);
        var blocks = ResidualBlocks.Analyze(network.Graph);
        var cosSum = new double[blocks.Count];
        long samples = 0;
        var context = new ImportanceContext(network, calibration, batches, batchSize);
        context.ForEachCalibrationBatch("block influence", (net, _, count, _) =>
        {
            for (var k = 0; k < blocks.Count; k++)
            {
                var b = blocks[k];
                var x = net.TrainingActivation(b.InputLayer);
                var y = net.TrainingActivation(b.OutputLayer);
                var size = network.Graph.Layers[b.OutputLayer].OutputShape.Size;
                if (network.Graph.ShapeOf(b.InputLayer).Size != size)
                {
                    continue;
                }

                for (var n = 0; n < count; n++)
                {
                    cosSum[k] += Cosine(x.Slice(n * size, size), y.Slice(n * size, size));
                }
            }

            samples += count;
        });

        var subset = calibration.Slice(0, Math.Min(calibration.Count, batches * batchSize));
        var baseLoss = Trainer.Evaluate(network, subset, batchSize).Loss;
        var result = new List<BlockScore>();
        for (var k = 0; k < blocks.Count; k++)
        {
            var b = blocks[k];
            var lossIncrease = double.NaN;
            if (b.Removable)
            {
                var gamma = network.Parameters[b.ResidualNorm + ".weight"];
                var beta = network.Parameters[b.ResidualNorm + ".bias"];
                var (g0, b0) = ((float[])gamma.Data.Clone(), (float[])beta.Data.Clone());
                Array.Clear(gamma.Data);
                Array.Clear(beta.Data);
                lossIncrease = Trainer.Evaluate(network, subset, batchSize).Loss - baseLoss;
                g0.CopyTo(gamma.Data, 0);
                b0.CopyTo(beta.Data, 0);
            }

            var influence = network.Graph.ShapeOf(b.InputLayer).Size == network.Graph.Layers[b.OutputLayer].OutputShape.Size
                ? 1 - (cosSum[k] / Math.Max(samples, 1))
                : double.NaN;
            result.Add(new BlockScore(b.Name, b.UnremovableReason, influence, lossIncrease));
        }

        return result;
    }

    /// <summary>The <paramref name="count"/> removable blocks that matter least by <paramref name="criterion"/>.</summary>
    /// <exception cref="InvalidOperationException">Fewer than <paramref name="count"/> blocks are removable.</exception>
    public static IReadOnlyList<string> Select(IReadOnlyList<BlockScore> scores, int count, BlockCriterion criterion = BlockCriterion.Influence)
    {
        ArgumentNullException.ThrowIfNull(scores);
        var removable = scores.Where(s => s.Removable).ToList();
        if (count > removable.Count)
        {
            throw new InvalidOperationException($"Asked to remove {count} residual blocks, but only {removable.Count} can be removed ({string.Join(", ", removable.Select(s => s.Block))}); the others change shape or read a non-ReLU tensor.");
        }

        return removable.OrderBy(s => criterion == BlockCriterion.Influence ? s.Influence : s.LossIncrease).Take(count).Select(s => s.Block).OrderBy(b => b, StringComparer.Ordinal).ToArray();
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
}
