using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using PruneGen.Checkpoints;
using PruneGen.Data;
using PruneGen.Examples.Networks;
using PruneGen.Onnx;
using PruneGen.Pruning;
using PruneGen.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PruneGen.Examples;

/// <summary>
/// The main job: trains one of the reference networks on Fashion-MNIST (or loads its checkpoint), reports its
/// accuracy and speed, then prunes it, compiles the pruned network at run time (PruneGen.Compiler), fine-tunes it and
/// writes plans, pruned weights, the pruned class's C# source and a report.
/// </summary>
internal sealed class TrainCommand : Command<TrainCommand.Settings>
{
    /// <summary>Command-line options; the defaults are the documented recipe for the VGG-style CNN.</summary>
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("-n|--network <NAME>")]
        [Description("Network to train: vgg (default), resnet, lenet5, mlp, or one of the compiled pruned VGGs vgg-l1-half / vgg-l1-quarter (trained from scratch: the baseline for pruning).")]
        [DefaultValue("vgg")]
        public string Network { get; init; } = "vgg";

        [CommandOption("-e|--epochs <N>")]
        [Description("Training epochs (default 8).")]
        [DefaultValue(8)]
        public int Epochs { get; init; } = 8;

        [CommandOption("-b|--batch <N>")]
        [Description("Batch size (default 128).")]
        [DefaultValue(128)]
        public int Batch { get; init; } = 128;

        [CommandOption("--lr <RATE>")]
        [Description("Peak learning rate of SGD with Nesterov momentum (default 0.05; 1 epoch of warm-up, then cosine).")]
        [DefaultValue(0.05f)]
        public float LearningRate { get; init; } = 0.05f;

        [CommandOption("--weight-decay <LAMBDA>")]
        [Description("L2 weight decay on conv/dense weights (default 5e-4).")]
        [DefaultValue(5e-4f)]
        public float WeightDecay { get; init; } = 5e-4f;

        [CommandOption("--train-samples <N>")]
        [Description("Use only the first N training images (default: all).")]
        public int? TrainSamples { get; init; }

        [CommandOption("--seed <N>")]
        [Description("Seed of initialization, data order, augmentation and dropout (default 1).")]
        [DefaultValue(1)]
        public int Seed { get; init; } = 1;

        [CommandOption("--data <DIR>")]
        [Description("Directory with the four Fashion-MNIST IDX files (default: $PRUNEGEN_FASHION_MNIST, /usr/share/datasets/fashion-mnist, else the embedded subset).")]
        public string? Data { get; init; }

        [CommandOption("-o|--out <DIR>")]
        [Description("Where to write the checkpoint (.safetensors) and the ONNX export (default: out).")]
        [DefaultValue("out")]
        public string Output { get; init; } = "out";

        [CommandOption("--resume")]
        [Description("Continue from the checkpoint in the output directory.")]
        public bool Resume { get; init; }

        [CommandOption("--checkpoint <FILE>")]
        [Description("Load trained weights from this safetensors checkpoint instead of training.")]
        public string? Checkpoint { get; init; }

        [CommandOption("--no-prune")]
        [Description("Only train (and report); skip pruning.")]
        public bool NoPrune { get; init; }

        [CommandOption("--criteria <LIST>")]
        [Description("Importance criteria to prune with, comma-separated: l1 (default), l2, bn, taylor, fpgm, activation, apoz, random.")]
        [DefaultValue("l1")]
        public string Criteria { get; init; } = "l1";

        [CommandOption("--macs-reduction <LIST>")]
        [Description("MAC reduction factors, comma-separated (default 2: half the MACs).")]
        [DefaultValue("2")]
        public string MacsReductions { get; init; } = "2";

        [CommandOption("--multiple <N>")]
        [Description("Round every pruned width up to a multiple of N (e.g. 8 or 16, the SIMD width) so kernels run without ragged tails (default 1).")]
        [DefaultValue(1)]
        public int Multiple { get; init; } = 1;

        [CommandOption("--global")]
        [Description("Rank channels across layers (global allocation) instead of pruning every layer by the same ratio.")]
        public bool GlobalAllocation { get; init; }

        [CommandOption("--finetune-epochs <N>")]
        [Description("Fine-tuning epochs after pruning (default 2).")]
        [DefaultValue(2)]
        public int FineTuneEpochs { get; init; } = 2;

        [CommandOption("--finetune-lr <RATE>")]
        [Description("Peak fine-tuning learning rate (cosine to 0; default 0.01).")]
        [DefaultValue(0.01f)]
        public float FineTuneLearningRate { get; init; } = 0.01f;

        [CommandOption("--distill")]
        [Description("Fine-tune with knowledge distillation from the unpruned network.")]
        public bool Distill { get; init; }

        [CommandOption("--remove-blocks <N>")]
        [Description("Also remove the N residual blocks that matter least (depth pruning; default 0).")]
        [DefaultValue(0)]
        public int RemoveBlocks { get; init; }

        [CommandOption("--remove-layers <N>")]
        [Description("Also remove the N plain convolution/dense layers (with their BatchNorm and ReLU) that matter least, among those whose removal keeps shapes valid (depth pruning; one-shot only; default 0).")]
        [DefaultValue(0)]
        public int RemoveLayers { get; init; }

        [CommandOption("--block-criterion <NAME>")]
        [Description("How blocks and layers are ranked for removal: influence (1 − cos(input, output), default) or loss (measured loss increase).")]
        [DefaultValue("influence")]
        public string BlockCriterion { get; init; } = "influence";

        [CommandOption("--steps <N>")]
        [Description("Iterative pruning: reach the target in N steps with --finetune-epochs of fine-tuning after each (default 1: one-shot).")]
        [DefaultValue(1)]
        public int Steps { get; init; } = 1;

        [CommandOption("--sensitivity")]
        [Description("Also run a sensitivity analysis (each group pruned alone at 25/50/75 %) for the report.")]
        public bool Sensitivity { get; init; }

        public override ValidationResult Validate() =>
            Epochs < 1 || Batch < 1 ? ValidationResult.Error("--epochs and --batch must be at least 1.")
            : LearningRate <= 0 ? ValidationResult.Error("--lr must be positive.")
            : Network.StartsWith("vgg-l1-", StringComparison.OrdinalIgnoreCase) && !NoPrune ? ValidationResult.Error($"{Network} is itself a pruned VGG (the from-scratch baseline); add --no-prune. To prune further, prune vgg to the smaller target: plans are relative to an unpruned network.")
            : Multiple < 1 ? ValidationResult.Error("--multiple must be at least 1.")
            : RemoveLayers > 0 && Steps > 1 ? ValidationResult.Error("--remove-layers is one-shot: a removed layer's masked form is exact only at inference, so iterative steps (--steps) cannot fine-tune it on masks. Use --steps 1.")
            : ValidationResult.Success();
    }

    /// <summary>A new instance of the reference network called <paramref name="name"/>.</summary>
    internal static ITrainableNetwork CreateNetwork(string name) => name.ToUpperInvariant() switch
    {
        "VGG" => new VggNet(),
        "RESNET" => new TinyResNet(),
        "LENET5" => new LeNet5(),
        "MLP" => new Mlp(),
        "VGG-L1-HALF" => new VggNetL1Half(),
        "VGG-L1-QUARTER" => new VggNetL1Quarter(),
        _ => throw new ArgumentException($"Unknown network '{name}'; use vgg, resnet, lenet5, mlp, vgg-l1-half or vgg-l1-quarter."),
    };

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var network = CreateNetwork(settings.Network);

        var data = FashionMnist.Load(settings.Data);
        var train = settings.TrainSamples is { } n ? data.Train.Slice(0, Math.Min(n, data.Train.Count)) : data.Train;
        AnsiConsole.MarkupLineInterpolated($"[bold]Fashion-MNIST[/]: {train.Count} training / {data.Test.Count} test images from {data.Source}");
        if (data.IsSubset)
        {
            AnsiConsole.MarkupLine("[yellow]Using the embedded subset; install 'dataset-fashion-mnist' (apt) or set PRUNEGEN_FASHION_MNIST for the full set.[/]");
        }

        AnsiConsole.Write(Summary(network));
        AnsiConsole.MarkupLineInterpolated($"SIMD: {Kernels.Simd.Level}, kernel threads: {Kernels.WorkerPool.Workers}");

        Directory.CreateDirectory(settings.Output);
        var name = settings.Network.ToLowerInvariant();
        double? baseEpochSeconds = null;
        if (settings.Checkpoint is { } trainedWeights)
        {
            Checkpoint.Load(network, trainedWeights);
            AnsiConsole.MarkupLineInterpolated($"Loaded trained weights from {trainedWeights}; skipping training.");
        }
        else
        {
            var epochs = Train(network, settings, train, data.Test, name, cancellationToken);
            baseEpochSeconds = epochs.Count == 0 ? null : epochs.Average(e => e.Seconds);
        }

        var final = Trainer.Evaluate(network, data.Test);
        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[bold green]Test accuracy {final.Accuracy:P2}[/] (loss {final.Loss:F4}) of the unpruned {network.Graph.Name}.");
        ReportLatency(network);
        if (settings.NoPrune)
        {
            return 0;
        }

        var results = PruneStage.Run(network, settings, train, data.Test, final.Accuracy, cancellationToken);
        IReadOnlyList<SensitivityPoint> sensitivity = [];
        if (settings.Sensitivity)
        {
            var trained = CreateNetwork(settings.Network);
            Checkpoint.Load(trained, settings.Checkpoint ?? Path.Combine(settings.Output, name + ".safetensors"));
            sensitivity = Pruning.Sensitivity.Analyze(trained, Importance.Parse(settings.Criteria.Split(',')[0]), data.Test, [0.25, 0.5, 0.75], train.Slice(0, Math.Min(train.Count, 1024)),
                p => AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"  sensitivity {p.Group} at {p.Ratio:P0}: {p.Accuracy:P2}"));
        }

        var report = PruningReport.Write(settings.Output, network, final.Accuracy, baseEpochSeconds, results, sensitivity, "dotnet run -c Release --project examples/PruneGen.Examples -- " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)));
        AnsiConsole.MarkupLineInterpolated($"Report: {report}; plans and pruned weights in {settings.Output}");
        return 0;
    }

    /// <summary>Trains from He initialization with the documented recipe; saves the checkpoint and an ONNX export.</summary>
    private static IReadOnlyList<EpochResult> Train(ITrainableNetwork network, Settings settings, Dataset train, Dataset test, string name, CancellationToken cancellationToken)
    {
        Initializer.HeUniform(network, settings.Seed);
        var optimizer = new Sgd(network.Parameters, momentum: 0.9f, nesterov: true) { WeightDecay = settings.WeightDecay };
        var stepsPerEpoch = Math.Max(1, train.Count / settings.Batch);
        var schedule = LearningRateSchedule.Warmup(stepsPerEpoch, LearningRateSchedule.Cosine(settings.LearningRate));
        var checkpoint = Path.Combine(settings.Output, name + ".safetensors");
        var options = new TrainingOptions
        {
            Epochs = settings.Epochs,
            BatchSize = settings.Batch,
            Seed = (ulong)settings.Seed,
            CheckpointPath = checkpoint,
        };

        var interactive = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        var results = interactive
            ? TrainWithProgressBar(network, optimizer, schedule, options, settings, train, test, checkpoint, cancellationToken)
            : TrainWithPlainLines(network, optimizer, schedule, options, settings, train, test, checkpoint, cancellationToken);

        var onnx = Path.Combine(settings.Output, name + ".onnx");
        OnnxExporter.Save(network, onnx);
        var totalSeconds = results.Sum(r => r.Seconds);
        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"Trained {settings.Epochs} epochs in {totalSeconds:F0} s ({(results.Count == 0 ? 0 : results.Average(r => r.ImagesPerSecond)):F0} img/s). Checkpoint: {checkpoint}; ONNX: {onnx}");
        return results;
    }

    private static System.Collections.Generic.IReadOnlyList<EpochResult> TrainWithPlainLines(ITrainableNetwork network, Optimizer optimizer, LearningRateSchedule schedule, TrainingOptions options, Settings settings, Dataset train, Dataset test, string checkpoint, CancellationToken cancellationToken)
    {
        var trainer = new Trainer(network, optimizer, schedule, options)
        {
            EpochCompleted = r => Console.WriteLine(r.ToString()),
        };
        if (settings.Resume && File.Exists(checkpoint))
        {
            trainer.Resume(checkpoint);
            Console.WriteLine($"Resumed from {checkpoint} after epoch {trainer.CompletedEpochs}.");
        }

        return trainer.Fit(train, test, cancellationToken);
    }

    private static System.Collections.Generic.IReadOnlyList<EpochResult> TrainWithProgressBar(ITrainableNetwork network, Optimizer optimizer, LearningRateSchedule schedule, TrainingOptions options, Settings settings, Dataset train, Dataset test, string checkpoint, CancellationToken cancellationToken)
    {
        System.Collections.Generic.IReadOnlyList<EpochResult> results = [];
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("training", maxValue: options.Epochs);
                var trainer = new Trainer(network, optimizer, schedule, options)
                {
                    Progress = new InlineProgress(p =>
                    {
                        task.Value = p.Epoch - 1 + ((double)p.Batch / p.Batches);
                        task.Description = string.Create(CultureInfo.InvariantCulture, $"epoch {p.Epoch}/{p.Epochs} loss {p.Loss:F3}");
                    }),
                    EpochCompleted = r => AnsiConsole.MarkupLineInterpolated($"{r}"),
                };
                if (settings.Resume && File.Exists(checkpoint))
                {
                    trainer.Resume(checkpoint);
                    task.Value = trainer.CompletedEpochs;
                }

                results = trainer.Fit(train, test, cancellationToken);
                task.Value = options.Epochs;
            });
        return results;
    }

    /// <summary>The network's layers, shapes, parameters and MACs, from the graph the generator built.</summary>
    private static Table Summary(INetwork network)
    {
        var graph = network.Graph;
        var table = new Table().Title($"{graph.Name}: {graph.TotalParameters:N0} parameters, {graph.TotalMacs:N0} MACs per image");
        table.AddColumns("layer", "kind", "output", "params", "MACs");
        foreach (var l in graph.Layers.Where(l => l.Macs > 0 || l.Parameters.Count > 0 || l.Index == graph.Layers.Count - 1))
        {
            table.AddRow(Markup.Escape(l.Name), l.Kind.ToString(), l.OutputShape.ToString(), l.TrainableParameterCount.ToString("N0", CultureInfo.InvariantCulture), l.Macs.ToString("N0", CultureInfo.InvariantCulture));
        }

        return table;
    }

    /// <summary>Inference latency of the trained network (median of repeated runs), batch 1 and 64.</summary>
    private static void ReportLatency(INetwork network)
    {
        var latency = Latency.Measure(network);
        foreach (var (batch, ms) in new[] { (1, latency.Batch1), (64, latency.Batch64) })
        {
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"Inference, batch {batch}: {ms:F3} ms median ({batch * 1000 / ms:F0} images/s)");
        }
    }

    /// <summary>Reports synchronously on the training thread (Progress&lt;T&gt; would post to a thread pool).</summary>
    private sealed class InlineProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
