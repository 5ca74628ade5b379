using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using PruneGen.IO;
using PruneGen.Model;
using PruneGen.Pruning;
using ScottPlot;

namespace PruneGen.Examples;

/// <summary>Writes the Markdown report of a pruning run and its PNG charts (ScottPlot).</summary>
internal static class PruningReport
{
    /// <summary>Writes <c>report.md</c> and the charts into <paramref name="directory"/>; returns the report's path.</summary>
    /// <param name="directory">Where the report and its charts go.</param>
    /// <param name="network">The base network.</param>
    /// <param name="baseAccuracy">The base network's test accuracy.</param>
    /// <param name="baseEpochSeconds">The base network's mean training time per epoch in this run (null when it was loaded, not trained).</param>
    /// <param name="results">One result per criterion and target.</param>
    /// <param name="sensitivity">Sensitivity points (empty when not asked for).</param>
    /// <param name="command">The command line that reproduces the run.</param>
    public static string Write(
        string directory,
        INetwork network,
        float baseAccuracy,
        double? baseEpochSeconds,
        IReadOnlyList<CriterionResult> results,
        IReadOnlyList<SensitivityPoint> sensitivity,
        string command)
    {
        Directory.CreateDirectory(directory);
        var graph = network.Graph;
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine(inv, $"# Pruning report: {graph.Name}");
        md.AppendLine();
        md.AppendLine(inv, $"Date {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; machine: {Environment.ProcessorCount} cores, SIMD {Kernels.Simd.Level}. Reproduce with:");
        md.AppendLine();
        md.AppendLine("```");
        md.AppendLine(command);
        md.AppendLine("```");
        md.AppendLine();
        md.AppendLine(inv, $"Unpruned: {graph.TotalMacs:N0} MACs, {graph.TotalParameters:N0} parameters, test accuracy **{baseAccuracy:P2}**.");
        md.AppendLine();
        md.AppendLine("## Accuracy by criterion");
        md.AppendLine();
        md.AppendLine("| criterion | target | MACs | params | after pruning | after fine-tuning | Δ vs unpruned | plan time | fine-tune time |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            var s = r.Plan.Summary!;
            md.AppendLine(inv, $"| {r.Criterion} | {r.MacsReduction:0.##}× | {s.Macs:N0} ({(double)s.BaseMacs / s.Macs:F2}×) | {s.Parameters:N0} | {r.PrunedAccuracy:P2} | **{r.FineTunedAccuracy:P2}** | {(r.FineTunedAccuracy - baseAccuracy) * 100:+0.00;-0.00} pp | {r.ScoreSeconds:F2} s | {r.FineTuneSeconds:F0} s |");
        }

        md.AppendLine();
        if (results.Any(r => r.Compiled is not null))
        {
            CompiledSection(md, baseEpochSeconds, results);
        }

        foreach (var r in results.GroupBy(r => r.MacsReduction).Select(g => g.First()))
        {
            var pruned = Allocator.PrunedGraph(graph, r.Plan);
            md.AppendLine(inv, $"## Layer widths at {r.MacsReduction:0.##}× ({r.Criterion})");
            md.AppendLine();
            md.AppendLine("| layer | kind | width before | width after | MACs before | MACs after |");
            md.AppendLine("|---|---|---|---|---|---|");
            foreach (var layer in graph.Layers.Where(l => l.Macs > 0))
            {
                var after = pruned.Find(layer.Name);
                md.AppendLine(inv, $"| {layer.Name} | {layer.Kind} | {layer.OutputShape.Channels} | {(after is null ? "removed" : after.OutputShape.Channels.ToString(inv))} | {layer.Macs:N0} | {(after?.Macs ?? 0):N0} |");
            }

            if (r.Plan.RemovedBlocks.Count > 0)
            {
                md.AppendLine();
                md.AppendLine(inv, $"Removed residual blocks: {string.Join(", ", r.Plan.RemovedBlocks)}.");
            }

            if (r.Plan.RemovedLayers.Count > 0)
            {
                md.AppendLine();
                md.AppendLine(inv, $"Removed layers (each with its BatchNorm and ReLU): {string.Join(", ", r.Plan.RemovedLayers)}.");
            }

            md.AppendLine();
            var widths = Path.Combine(directory, string.Create(inv, $"widths-{r.MacsReduction:0.##}x.png"));
            WidthsChart(graph, pruned, widths);
            md.AppendLine(inv, $"![widths]({Path.GetFileName(widths)})");
            md.AppendLine();
        }

        if (results.Count > 0)
        {
            var chart = Path.Combine(directory, "accuracy-vs-macs.png");
            AccuracyChart(graph, baseAccuracy, results, chart);
            md.AppendLine("## Accuracy vs MACs");
            md.AppendLine();
            md.AppendLine(inv, $"![accuracy vs MACs]({Path.GetFileName(chart)})");
            md.AppendLine();
        }

        if (sensitivity.Count > 0)
        {
            var chart = Path.Combine(directory, "sensitivity.png");
            SensitivityChart(baseAccuracy, sensitivity, chart);
            md.AppendLine("## Sensitivity (each group pruned alone, no fine-tuning)");
            md.AppendLine();
            md.AppendLine("| group | " + string.Join(" | ", sensitivity.Select(p => p.Ratio).Distinct().Select(r => r.ToString("P0", inv))) + " |");
            md.AppendLine("|---|" + string.Concat(sensitivity.Select(p => p.Ratio).Distinct().Select(_ => "---|")));
            foreach (var g in sensitivity.GroupBy(p => p.Group))
            {
                md.AppendLine(inv, $"| {g.Key} | {string.Join(" | ", g.Select(p => p.Accuracy.ToString("P2", inv)))} |");
            }

            md.AppendLine();
            md.AppendLine(inv, $"![sensitivity]({Path.GetFileName(chart)})");
            md.AppendLine();
        }

        var path = Path.Combine(directory, "report.md");
        var bytes = Encoding.UTF8.GetBytes(md.ToString());
        AtomicFile.Write(path, s => s.Write(bytes));
        return path;
    }

    /// <summary>The compiled pruned networks: compile time, fine-tuning time per epoch and inference latency against the base.</summary>
    private static void CompiledSection(StringBuilder md, double? baseEpochSeconds, IReadOnlyList<CriterionResult> results)
    {
        var inv = CultureInfo.InvariantCulture;
        md.AppendLine("## Compiled pruned networks");
        md.AppendLine();
        md.AppendLine("Each plan is compiled at run time by PruneGen.Compiler into a class of its own (every pruned width a constant),");
        md.AppendLine("its generated C# written next to the plan. One-shot runs fine-tune that compiled network on its own smaller");
        md.AppendLine("passes; iterative runs fine-tune the masked base and compile the final plan. Latency: 1 s of warm-up (the JIT");
        md.AppendLine("tiers up a freshly compiled class), then the median of 15 samples (each 50 forward passes at batch 1, 3 at");
        md.AppendLine(inv, $"batch 64), base measured right before pruned.{(baseEpochSeconds is { } e ? string.Create(inv, $" The base trained at {e:F1} s per epoch.") : string.Empty)}");
        md.AppendLine();
        md.AppendLine("| criterion | target | class | compile | fine-tuned | s/epoch | batch 1: base → pruned | batch 64: base → pruned | MACs ÷ |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            if (r.Compiled is not { } c)
            {
                continue;
            }

            var perEpoch = double.IsNaN(r.FineTuneSecondsPerEpoch) ? "–" : r.FineTuneSecondsPerEpoch.ToString("F1", inv);
            md.AppendLine(inv,
                $"| {r.Criterion} | {r.MacsReduction:0.##}× | [`{c.ClassName}`]({Path.GetFileName(c.SourceFile)}) | {c.CompileSeconds:F2} s | {c.FineTuned} | {perEpoch} | {c.Base.Batch1:F3} → {c.Pruned.Batch1:F3} ms ({c.Base.Batch1 / c.Pruned.Batch1:F2}×) | {c.Base.Batch64:F2} → {c.Pruned.Batch64:F2} ms ({c.Base.Batch64 / c.Pruned.Batch64:F2}×) | {r.MacRatio:F2}× |");
        }

        md.AppendLine();
    }

    private static void WidthsChart(NetworkGraph graph, NetworkGraph pruned, string path)
    {
        var layers = graph.Layers.Where(l => l.Macs > 0).ToArray();
        var plot = new Plot();
        var bars = new List<Bar>();
        for (var i = 0; i < layers.Length; i++)
        {
            bars.Add(new Bar { Position = (i * 3) + 0, Value = layers[i].OutputShape.Channels, FillColor = Colors.Gray });
            bars.Add(new Bar { Position = (i * 3) + 1, Value = pruned.Find(layers[i].Name)?.OutputShape.Channels ?? 0, FillColor = Colors.SteelBlue });
        }

        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks(layers.Select((_, i) => (i * 3) + 0.5).ToArray(), layers.Select(l => l.Name).ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 90;
        plot.Axes.Left.Label.Text = "output channels (gray: base, blue: pruned)";
        plot.Title("Widths per layer");
        Save(plot, path);
    }

    private static void AccuracyChart(NetworkGraph graph, float baseAccuracy, IReadOnlyList<CriterionResult> results, string path)
    {
        var plot = new Plot();
        foreach (var g in results.GroupBy(r => r.Criterion))
        {
            var points = g.OrderByDescending(r => r.Plan.Summary!.Macs).ToArray();
            var xs = new[] { (double)graph.TotalMacs / 1e6 }.Concat(points.Select(r => r.Plan.Summary!.Macs / 1e6)).ToArray();
            var ys = new[] { (double)baseAccuracy * 100 }.Concat(points.Select(r => (double)r.FineTunedAccuracy * 100)).ToArray();
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = g.Key;
        }

        plot.Axes.Bottom.Label.Text = "MACs per image (millions)";
        plot.Axes.Left.Label.Text = "test accuracy after fine-tuning (%)";
        plot.Title("Accuracy vs MACs per criterion");
        plot.ShowLegend();
        Save(plot, path);
    }

    private static void SensitivityChart(float baseAccuracy, IReadOnlyList<SensitivityPoint> points, string path)
    {
        var plot = new Plot();
        foreach (var g in points.GroupBy(p => p.Group))
        {
            var xs = new[] { 0.0 }.Concat(g.Select(p => p.Ratio * 100)).ToArray();
            var ys = new[] { (double)baseAccuracy * 100 }.Concat(g.Select(p => (double)p.Accuracy * 100)).ToArray();
            plot.Add.Scatter(xs, ys).LegendText = g.Key;
        }

        plot.Axes.Bottom.Label.Text = "channels removed from the group (%)";
        plot.Axes.Left.Label.Text = "test accuracy, no fine-tuning (%)";
        plot.Title("Sensitivity per group");
        plot.ShowLegend();
        Save(plot, path);
    }

    /// <summary>Renders to a temporary file and renames it over the target (a crash never leaves half a PNG).</summary>
    private static void Save(Plot plot, string path)
    {
        var bytes = plot.GetImageBytes(900, 500, ImageFormat.Png);
        AtomicFile.Write(path, s => s.Write(bytes));
    }
}
