using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using PruneGen.Checkpoints;
using PruneGen.Compiler;
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
    IReadOnlyList<EpochResult> Epochs,
    CompiledResult? Compiled)
{
    /// <summary>Mean fine-tuning time per epoch (NaN when there was none).</summary>
    public double FineTuneSecondsPerEpoch => Epochs.Count == 0 ? double.NaN : Epochs.Average(e => e.Seconds);

    /// <summary>The plan's MAC reduction (base MACs / pruned MACs).</summary>
    public double MacRatio => (double)Plan.Summary!.BaseMacs / Plan.Summary.Macs;
}

/// <summary>The pruned network compiled at run time: its class, what compiling cost, what was fine-tuned, and its speed next to the base's.</summary>
/// <param name="ClassName">The compiled class (namespace PruneGen.Compiled).</param>
/// <param name="CompileSeconds">Generator + Roslyn + load.</param>
/// <param name="FineTuned">What the fine-tuning epochs trained: the compiled network itself, or the masked base (iterative pruning, with the step count).</param>
/// <param name="SourceFile">Where the class's generated C# was written.</param>
/// <param name="Base">The base network's inference latency, measured right before the pruned one's.</param>
/// <param name="Pruned">The compiled pruned network's inference latency.</param>
internal sealed record CompiledResult(string ClassName, double CompileSeconds, string FineTuned, string SourceFile, Latency Base, Latency Pruned);

/// <summary>
/// The pruning half of the main job. One-shot: score → allocate → mask (accuracy right after pruning) → slice the
/// weights to the pruned shapes → compile the pruned network at run time (PruneGen.Compiler) → fine-tune that
/// compiled network on its own smaller passes → write plan, weights, its C# source and the report. Iterative
/// (<c>--steps</c> &gt; 1): every step masks and fine-tunes the base; the final plan is compiled at the end.
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

        // Depth pruning: score every residual block or plain layer, print why the others cannot go, remove the weakest.
        IReadOnlyList<string> RemoveWeakest(string kind, IReadOnlyList<DepthScore> scores, int count)
        {
            foreach (var d in scores)
            {
                AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"  {kind} {d.Name}: influence {d.Influence:F4}, loss increase when removed {d.LossIncrease:F4}{(d.Removable ? string.Empty : " (not removable: " + d.UnremovableReason + ")")}");
            }

            var by = settings.BlockCriterion.Equals("loss", StringComparison.OrdinalIgnoreCase) ? BlockCriterion.LossIncrease : BlockCriterion.Influence;
            var removed = BlockPruning.Select(scores, count, by);
            AnsiConsole.MarkupLineInterpolated($"Removing {kind}s: {string.Join(", ", removed)}");
            return removed;
        }

        var removedBlocks = settings.RemoveBlocks > 0 ? RemoveWeakest("block", BlockPruning.Score(network, calibration), settings.RemoveBlocks) : [];
        var removedLayers = settings.RemoveLayers > 0 ? RemoveWeakest("layer", BlockPruning.ScoreLayers(network, calibration), settings.RemoveLayers) : [];

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
                    Allocation = new AllocationOptions { Target = PruningTarget.MacsReduction(reduction), Global = settings.GlobalAllocation, MaxRatio = 0.9, Multiple = settings.Multiple },
                };
                PruningPlan plan;
                float pruned;
                double scoreSeconds;
                List<EpochResult> epochs = [];
                var stem = Path.Combine(settings.Output, string.Create(CultureInfo.InvariantCulture, $"{settings.Network.ToLowerInvariant()}.{criterion.Name}.{reduction:0.##}x"));
                var className = ClassName(network, criterion, reduction);
                (CompiledNetwork Compiled, ITrainableNetwork Network) compiled;
                string fineTuned;
                if (settings.Steps <= 1)
                {
                    plan = Pruner.Plan(network, options, removedBlocks: removedBlocks, removedLayers: removedLayers);
                    scoreSeconds = clock.Elapsed.TotalSeconds;
                    PruningMask.Create(network.Graph, plan).Apply(network.Parameters);
                    pruned = Trainer.Evaluate(network, test).Accuracy;
                    Describe(criterion, reduction, plan, scoreSeconds, pruned);

                    // From here on the pruned network is a class of its own: every width a constant, its own
                    // smaller forward and backward. It starts from the masked network's kept weights.
                    compiled = CompileAndLoad(network, plan, className, stem, test);
                    epochs.AddRange(FineTune(compiled.Network, null, settings, train, test, teacher, cancellationToken));
                    fineTuned = "compiled network";
                }
                else
                {
                    // Iterative: each step moves the target closer, scores the masked network and fine-tunes it.
                    // This stays on masks: every step's scores and plan are about the base network's channels (a
                    // step may prune channels an earlier step kept, and the plans are cumulative in base indices),
                    // so a compiled network per step would need plans composed across shapes and a compile each
                    // step, for fine-tuning epochs that are short anyway. The final plan is compiled once, below.
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
                    compiled = CompileAndLoad(network, plan, className, stem, test);
                    fineTuned = string.Create(CultureInfo.InvariantCulture, $"masked base, {settings.Steps} steps");
                }

                var final = Trainer.Evaluate(compiled.Network, test).Accuracy;
                if (epochs.Count > 0)
                {
                    AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                        $"Fine-tuning ({fineTuned}): {epochs.Average(e => e.Seconds):F1} s per epoch ({epochs.Average(e => e.ImagesPerSecond):F0} img/s)");
                }

                var result = new CompiledResult(className, compiled.Compiled.CompileTime.TotalSeconds, fineTuned, stem + ".cs", Latency.Measure(network), Latency.Measure(compiled.Network));
                ReportLatency(result, plan);

                results.Add(new CriterionResult(criterion.Name, reduction, plan, pruned, final, scoreSeconds, epochs.Sum(e => e.Seconds), epochs, result));
                AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                    $"[bold green]{criterion.Name} {reduction:0.##}×: {final:P2}[/] after {settings.FineTuneEpochs} fine-tuning epochs ({(final - baseAccuracy) * 100:+0.00;-0.00} pp vs the unpruned {baseAccuracy:P2})");

                PlanFile.Write(stem + ".plan.json", plan);
                SaveWeights(compiled.Network, plan, stem + ".pruned.safetensors");
                compiled.Compiled.SaveSource(stem + ".cs");
            }
        }

        return results;
    }

    /// <summary>
    /// Compiles <paramref name="plan"/> into a network class, loads the masked network's kept weights into an
    /// instance, and checks that it computes what the masked network computes on a few test images.
    /// </summary>
    private static (CompiledNetwork Compiled, ITrainableNetwork Network) CompileAndLoad(ITrainableNetwork network, PruningPlan plan, string className, string stem, Dataset test)
    {
        var compiled = PrunedNetworkCompiler.Compile(network.GetType(), plan, new PrunedNetworkCompilerOptions
        {
            ClassName = className,
            PlanPath = Path.GetFileName(stem) + ".plan.json",
        });
        var instance = compiled.Create();
        PlanSlicer.Slice(network, plan).CopyTo(instance.Parameters);

        var count = Math.Min(256, test.Count);
        var images = test.Images.AsSpan(0, count * test.SampleSize);
        var masked = new float[count * network.OutputSize];
        var outputs = new float[count * instance.OutputSize];
        network.Forward(images, masked, count);
        instance.Forward(images, outputs, count);
        var difference = 0f;
        for (var i = 0; i < masked.Length; i++)
        {
            difference = Math.Max(difference, Math.Abs(masked[i] - outputs[i]));
        }

        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"Compiled {compiled.Type.FullName} in {compiled.CompileTime.TotalSeconds:F2} s: {compiled.Graph.TotalMacs:N0} MACs, {compiled.Graph.TotalParameters:N0} parameters; max |Δ logit| vs the masked network {difference:G2} on {count} test images");
        if (!(difference <= 1e-3f))
        {
            throw new InvalidOperationException($"The compiled pruned network disagrees with the masked network (max |Δ logit| {difference}); this is a PruneGen bug.");
        }

        return (compiled, instance);
    }

    /// <summary>The compiled class's name: base, criterion and target, e.g. <c>VggNet_L1_2x</c> (<c>1p5x</c> for 1.5×).</summary>
    private static string ClassName(INetwork network, Importance criterion, double reduction) =>
        string.Create(CultureInfo.InvariantCulture, $"{network.GetType().Name}_{char.ToUpperInvariant(criterion.Name[0])}{criterion.Name[1..]}_{reduction:0.##}x").Replace('.', 'p');

    private static void ReportLatency(CompiledResult compiled, PruningPlan plan)
    {
        var macs = (double)plan.Summary!.BaseMacs / plan.Summary.Macs;
        foreach (var (batch, b, p) in new[] { (1, compiled.Base.Batch1, compiled.Pruned.Batch1), (64, compiled.Base.Batch64, compiled.Pruned.Batch64) })
        {
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"Inference, batch {batch}: base {b:F3} ms, pruned {p:F3} ms median: {b / p:F2}× faster for {macs:F2}× fewer MACs");
        }
    }

    /// <summary>The pruned network's weights as safetensors, with its plan in the metadata (what <see cref="PrunedWeights.Save"/> writes).</summary>
    private static void SaveWeights(INetwork pruned, PruningPlan plan, string path)
    {
        var file = Checkpoint.ToSafetensors(pruned);
        file.Metadata["prunegen.plan"] = PlanFile.ToJson(plan);
        file.Write(path);
    }

    private static void Describe(Importance criterion, double reduction, PruningPlan plan, double seconds, float accuracy) =>
        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"[bold]{criterion.Name}[/] {reduction:0.##}× MACs: planned in {seconds:F2} s, {plan.Summary!.Macs:N0} MACs ({(double)plan.Summary.BaseMacs / plan.Summary.Macs:F2}×), {plan.Summary.Parameters:N0} params, removed blocks: {(plan.RemovedBlocks.Count == 0 ? "none" : string.Join(", ", plan.RemovedBlocks))}, removed layers: {(plan.RemovedLayers.Count == 0 ? "none" : string.Join(", ", plan.RemovedLayers))}; accuracy before fine-tuning {accuracy:P2}");

    /// <summary>
    /// Fine-tunes <paramref name="network"/> (the compiled pruned network, or the masked base with its
    /// <paramref name="mask"/> re-applied after every step): SGD with Nesterov momentum, cosine from the fine-tuning rate.
    /// </summary>
    public static IReadOnlyList<EpochResult> FineTune(ITrainableNetwork network, PruningMask? mask, TrainCommand.Settings settings, Dataset train, Dataset test, INetwork? teacher, CancellationToken cancellationToken)
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
            AfterUpdate = mask is null ? null : () => mask.Apply(network.Parameters),
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
