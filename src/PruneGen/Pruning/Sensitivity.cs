using System;
using System.Collections.Generic;
using System.Linq;
using PruneGen.Data;
using PruneGen.Training;

namespace PruneGen.Pruning;

/// <summary>Accuracy of the network with one group pruned alone at one ratio (no fine-tuning).</summary>
/// <param name="Group">The pruned group.</param>
/// <param name="Ratio">Fraction of its channels removed.</param>
/// <param name="Accuracy">Accuracy on the evaluation data.</param>
/// <param name="Macs">MACs per sample of the network with only this group pruned.</param>
public sealed record SensitivityPoint(string Group, double Ratio, float Accuracy, long Macs);

/// <summary>
/// Sensitivity analysis: prunes each group alone at several ratios (by a criterion, as masks, so
/// nothing is recompiled) and measures accuracy, showing which layers tolerate pruning.
/// </summary>
public static class Sensitivity
{
    /// <summary>Runs the analysis; the network's weights are restored afterwards.</summary>
    /// <param name="network">The trained network.</param>
    /// <param name="criterion">The criterion choosing which channels go.</param>
    /// <param name="evaluation">Data the accuracy is measured on.</param>
    /// <param name="ratios">Fractions removed (e.g. 0.25, 0.5, 0.75).</param>
    /// <param name="calibration">Calibration data for data-driven criteria.</param>
    /// <param name="progress">Called after each point.</param>
    public static IReadOnlyList<SensitivityPoint> Analyze(INetwork network, Importance criterion, Dataset evaluation, IReadOnlyList<double> ratios, Dataset? calibration = null, Action<SensitivityPoint>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(criterion);
        ArgumentNullException.ThrowIfNull(evaluation);
        ArgumentNullException.ThrowIfNull(ratios);
        var context = new ImportanceContext(network, calibration);
        var scores = criterion.Score(context);
        var prunable = context.Groups.Where((g, i) => g.Prunable && scores[i] is not null).Select(g => g.Name).ToArray();
        var saved = network.Parameters.CopyValues();
        var points = new List<SensitivityPoint>();
        try
        {
            foreach (var group in prunable)
            {
                foreach (var ratio in ratios)
                {
                    var options = new AllocationOptions
                    {
                        Target = PruningTarget.ChannelRatio(0),
                        GroupRatios = new Dictionary<string, double> { [group] = ratio },
                        Protected = prunable.Where(g => g != group).ToArray(),
                        MaxRatio = 1,
                    };
                    var plan = Allocator.Allocate(network, scores, options, criterion.Name, context.Seed);
                    PruningMask.Create(network.Graph, plan).Apply(network.Parameters);
                    var point = new SensitivityPoint(group, ratio, Trainer.Evaluate(network, evaluation).Accuracy, plan.Summary!.Macs);
                    points.Add(point);
                    progress?.Invoke(point);
                    network.Parameters.RestoreValues(saved);
                }
            }
        }
        finally
        {
            network.Parameters.RestoreValues(saved);
        }

        return points;
    }
}
