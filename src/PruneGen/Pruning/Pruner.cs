using System;
using System.Collections.Generic;
using System.Linq;
using PruneGen.Data;
using PruneGen.Model.Pruning;

namespace PruneGen.Pruning;

/// <summary>Everything one pruning step needs: the criterion, how scores combine, the allocation, calibration data.</summary>
public sealed record PruningOptions
{
    /// <summary>The importance criterion (default L1 magnitude).</summary>
    public Importance Criterion { get; init; } = Importance.L1;

    /// <summary>How a channel's scores over its group's tensors combine.</summary>
    public GroupReduction Reduction { get; init; } = GroupReduction.Mean;

    /// <summary>Target and constraints of the allocation (required).</summary>
    public required AllocationOptions Allocation { get; init; }

    /// <summary>Calibration data for data-driven criteria (Taylor, activations) and block scoring.</summary>
    public Dataset? Calibration { get; init; }

    /// <summary>Calibration batches.</summary>
    public int CalibrationBatches { get; init; } = 8;

    /// <summary>Calibration batch size.</summary>
    public int CalibrationBatchSize { get; init; } = 64;

    /// <summary>Seed (random criterion; recorded in the plan).</summary>
    public ulong Seed { get; init; } = 1;
}

/// <summary>
/// The pruning entry points: score and allocate one step (<see cref="Plan"/>), or prune iteratively to a
/// target with fine-tuning between steps (<see cref="PruneIteratively"/>).
/// </summary>
public static class Pruner
{
    /// <summary>Scores <paramref name="network"/>'s channels with the criterion and allocates a plan meeting the target.</summary>
    /// <param name="network">The (base, possibly already masked) network.</param>
    /// <param name="options">Criterion, allocation and calibration.</param>
    /// <param name="previous">An earlier plan whose removals stay removed.</param>
    /// <param name="removedBlocks">Residual blocks to remove whole (from <see cref="BlockPruning"/>).</param>
    /// <param name="removedLayers">Plain layers to remove whole (from <see cref="BlockPruning.ScoreLayers"/>); their channels are scored as the network without them sees them.</param>
    public static PruningPlan Plan(INetwork network, PruningOptions options, PruningPlan? previous = null, IReadOnlyList<string>? removedBlocks = null, IReadOnlyList<string>? removedLayers = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(options);
        removedLayers ??= previous?.RemovedLayers.ToArray();
        var context = new ImportanceContext(network, options.Calibration, options.CalibrationBatches, options.CalibrationBatchSize, options.Reduction, options.Seed, removedLayers);
        var scores = options.Criterion.Score(context);
        return Allocator.Allocate(network, scores, options.Allocation, options.Criterion.Name, options.Seed, removedBlocks, previous, removedLayers);
    }

    /// <summary>
    /// Iterative pruning: <paramref name="steps"/> steps, each moving the target a step closer (linearly in
    /// the pruned fraction), scoring the current masked network, masking the new plan and calling
    /// <paramref name="fineTune"/> (step, mask) so the network recovers before the next step. Channels removed
    /// at one step stay removed. Returns the final plan; the network is left masked with it.
    /// </summary>
    public static PruningPlan PruneIteratively(INetwork network, PruningOptions options, int steps, Action<int, PruningMask>? fineTune, IReadOnlyList<string>? removedBlocks = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        PruningPlan? plan = null;
        for (var step = 1; step <= steps; step++)
        {
            var fraction = (double)step / steps;
            PruningTarget target = options.Allocation.Target switch
            {
                ChannelRatioTarget r => PruningTarget.ChannelRatio(r.Ratio * fraction),
                CostTarget { Macs: true } c => PruningTarget.MacsFraction(1 - ((1 - c.Fraction) * fraction)),
                CostTarget c => PruningTarget.ParametersFraction(1 - ((1 - c.Fraction) * fraction)),
                var t => t,
            };
            plan = Plan(network, options with { Allocation = options.Allocation with { Target = target } }, plan, removedBlocks);
            var mask = PruningMask.Create(network.Graph, plan);
            mask.Apply(network.Parameters);
            fineTune?.Invoke(step, mask);
        }

        return plan!;
    }
}

/// <summary>Sparse training for network slimming (Liu et al. 2017): an L1 penalty on BatchNorm γ pushes unimportant channels to zero before pruning by <see cref="Importance.BatchNormScale"/>.</summary>
public static class SparseTraining
{
    /// <summary>
    /// A <see cref="Training.Trainer.BeforeUpdate"/> hook adding λ·sign(γ) to the gradient of every
    /// BatchNorm γ (the subgradient of λ·Σ|γ|).
    /// </summary>
    public static Action<ParameterSet> BatchNormL1(INetwork network, float lambda)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (!(lambda >= 0) || !float.IsFinite(lambda))
        {
            throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "λ must be a finite non-negative number.");
        }

        var gammas = network.Graph.Layers.Where(l => l.Kind == Model.LayerKind.BatchNorm).Select(l => network.Parameters[l.Name + ".weight"]).ToArray();
        return _ =>
        {
            foreach (var g in gammas)
            {
                for (var i = 0; i < g.Data.Length; i++)
                {
                    g.Gradient[i] += lambda * MathF.Sign(g.Data[i]);
                }
            }
        };
    }
}
