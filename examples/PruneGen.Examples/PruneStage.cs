using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using PruneGen.Data;
using PruneGen.Model.Pruning;
using PruneGen.Pruning;
using PruneGen.Training;
using Spectre.Console;

namespace PruneGen.Examples;

/// <summary>The outcome of pruning with one criterion: the plan, accuracy before and after fine-tuning, costs and times.</summary>
internal sealed record CriterionResult(
    string Criterion,
    double MacsReduction,
    PruningPlan Plan,
    float PrunedAccuracy,
    float FineTunedAccuracy,
    double ScoreSeconds,
    double FineTuneSeconds,
    IReadOnlyList<EpochResult> Epochs);

/// <summary>
/// The pruning half of the main job: score → allocate → mask → fine-tune (on the masked network, so
/// nothing is recompiled) → slice the weights to the pruned shapes → write plan, weights and report.
/// </summary>
internal static class PruneStage
{
    /// <summary>Prunes <paramref name="network"/> (trained) for every criterion and reduction asked for, restoring the trained weights between runs.</summary>
    public static IReadOnlyList<CriterionResult> Run(
        ITrainableNetwork network,
        TrainCommand.Settings settings,
        Dataset train,
        Dataset test,
        float baseAccuracy,
        CancellationToken cancellationToken)
    {
        var trained = network.Parameters.CopyValues();
        var calibration = train.Slice(0, Math.Min(train.Count, 1024));
        var results = new List<CriterionResult>();
        var criteria = settings.Criteria.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Importance.Parse).ToArray();
        var reductions = settings.MacsReductions.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var teacher = settings.Distill ? Clone(settings.Network, trained) : null;
        IReadOnlyList<string> removedBlocks = [];
        if (settings.RemoveBlocks > 0)
        {
            var scores = BlockPruning.Score(network, calibration);
            foreach (var b in scores)
            {
                AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"  block {b.Block}: influence {b.Influence:F4}, loss increase when removed {b.LossIncrease:F4}{(b.Removable ? string.Empty : " (not removable: " + b.UnremovableReason + ")")}");
            }

            var by = settings.BlockCriterion.Equals("loss", StringComparison.OrdinalIgnoreCase) ? BlockCriterion.LossIncrease : BlockCriterion.Influence;
            removedBlocks = BlockPruning.Select(scores, settings.RemoveBlocks, by);
            AnsiConsole.MarkupLineInterpolated($"Removing residual blocks: {string.Join(", ", removedBlocks)}");
        }

        foreach (var reduction in reductions)
        {
            foreach (var criterion in criteria)
            {
                network.Parameters.RestoreValues(trained);
                var clock = Stopwatch.StartNew();
                var options = new PruningOptions
                {
                    Criterion = criterion,
                    Calibration = calibration,
                    Seed = (ulong)settings.Seed,
                    Allocation = new AllocationOptions { Target = PruningTarget.MacsReduction(reduction), Global = settings.GlobalAllocation, MaxRatio = 0.9 },
                };
                PruningPlan plan;
                float pruned;
                double scoreSeconds;
                List<EpochResult> epochs = [];
                if (settings.Steps <= 1)
                {
                    plan = Pruner.Plan(network, options, removedBlocks: removedBlocks);
                    scoreSeconds = clock.Elapsed.TotalSeconds;
                    var mask = PruningMask.Create(network.Graph, plan);
                    mask.Apply(network.Parameters);
                    pruned = Trainer.Evaluate(network, test).Accuracy;
                    Describe(criterion, reduction, plan, scoreSeconds, pruned);
                    epochs.AddRange(FineTune(network, mask, settings, train, test, teacher, cancellationToken));
                }
                else
                {
                    // Iterative: each step moves the target closer, scores the masked network and fine-tunes it.
                    pruned = float.NaN;
                    var planning = 0.0;
                    plan = Pruner.PruneIteratively(network, options, settings.Steps, (step, mask) =>
                    {
                        planning += clock.Elapsed.TotalSeconds;
                        var accuracy = Trainer.Evaluate(network, test).Accuracy;
                        if (step == 1)
                        {
                            pruned = accuracy;
                        }

                        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"  step {step}/{settings.Steps}: {mask.Plan.Summary!.Macs:N0} MACs, accuracy before fine-tuning {accuracy:P2}");
                        epochs.AddRange(FineTune(network, mask, settings, train, test, teacher, cancellationToken));
                        clock.Restart();
                    }, removedBlocks);
                    scoreSeconds = planning;
                    Describe(criterion, reduction, plan, scoreSeconds, pruned);
                }

                var final = Trainer.Evaluate(network, test).Accuracy;
                results.Add(new CriterionResult(criterion.Name, reduction, plan, pruned, final, scoreSeconds, epochs.Sum(e => e.Seconds), epochs));
                AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                    $"[bold green]{criterion.Name} {reduction:0.##}×: {final:P2}[/] after {settings.FineTuneEpochs} fine-tuning epochs ({(final - baseAccuracy) * 100:+0.00;-0.00} pp vs the unpruned {baseAccuracy:P2})");

                var stem = Path.Combine(settings.Output, string.Create(CultureInfo.InvariantCulture, $"{settings.Network.ToLowerInvariant()}.{criterion.Name}.{reduction:0.##}x"));
                PlanFile.Write(stem + ".plan.json", plan);
                PlanSlicer.Slice(network, plan).Save(stem + ".pruned.safetensors");
            }
        }

        return results;
    }

    private static void Describe(Importance criterion, double reduction, PruningPlan plan, double seconds, float accuracy) =>
        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"[bold]{criterion.Name}[/] {reduction:0.##}× MACs: planned in {seconds:F2} s, {plan.Summary!.Macs:N0} MACs ({(double)plan.Summary.BaseMacs / plan.Summary.Macs:F2}×), {plan.Summary.Parameters:N0} params, removed blocks: {(plan.RemovedBlocks.Count == 0 ? "none" : string.Join(", ", plan.RemovedBlocks))}; accuracy before fine-tuning {accuracy:P2}");

    /// <summary>Fine-tunes the masked network: SGD + cosine from the fine-tuning rate, the mask re-applied after every step.</summary>
    public static IReadOnlyList<EpochResult> FineTune(ITrainableNetwork network, PruningMask mask, TrainCommand.Settings settings, Dataset train, Dataset test, INetwork? teacher, CancellationToken cancellationToken)
    {
        if (settings.FineTuneEpochs == 0)
        {
            return [];
        }

        var optimizer = new Sgd(network.Parameters, momentum: 0.9f, nesterov: true) { WeightDecay = settings.WeightDecay };
        var trainer = new Trainer(network, optimizer, LearningRateSchedule.Cosine(settings.FineTuneLearningRate), new TrainingOptions
        {
            Epochs = settings.FineTuneEpochs,
            BatchSize = settings.Batch,
            Seed = (ulong)settings.Seed + 1000,
        })
        {
            AfterUpdate = () => mask.Apply(network.Parameters),
            Distillation = teacher is null ? null : new Distillation(teacher),
            EpochCompleted = r => AnsiConsole.MarkupLineInterpolated($"  fine-tune {r}"),
        };
        return trainer.Fit(train, test, cancellationToken);
    }

    /// <summary>A second instance of the network's class holding the trained weights (the distillation teacher).</summary>
    private static INetwork Clone(string network, float[][] weights)
    {
        var copy = TrainCommand.CreateNetwork(network);
        copy.Parameters.RestoreValues(weights);
        return copy;
    }
}
