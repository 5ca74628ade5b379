using System;
using System.Globalization;
using System.IO;
using System.Linq;
using PruneGen.Benchmarks.Workloads;
using PruneGen.Compiler;
using PruneGen.Kernels;
using PruneGen.Model.Pruning;

namespace PruneGen.Benchmarks.Quick;

/// <summary>
/// <c>staircase</c>: a reference network's forward latency as a function of one channel group's width (every other
/// group whole), each width compiled at run time by <see cref="LatencyStaircase"/>, then the widths worth pruning to.
/// Options: <c>--network VggNet</c>, <c>--groups conv4,conv6</c>, <c>--from 0.5</c> (the narrowest width as a fraction
/// of the group), <c>--batch 64</c>.
/// </summary>
public static class StaircaseRunner
{
    /// <summary>Measures and prints one Markdown table per group.</summary>
    public static int Run(string[] args)
    {
        string Option(string name, string fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }

        var network = ReferenceNetworks.Create(Option("--network", "VggNet"));
        var groups = Option("--groups", "conv2,conv4,conv6").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var from = double.Parse(Option("--from", "0.5"), CultureInfo.InvariantCulture);
        var batch = int.Parse(Option("--batch", "64"), CultureInfo.InvariantCulture);
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"{network.Graph.Name}, batch {batch}, {WorkerPool.Workers} thread(s), {Simd.Level}, load {File.ReadAllText("/proc/loadavg").Trim()}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC"));
        foreach (var group in groups)
        {
            var channels = ChannelGroups.Analyze(network.Graph).Find(group)?.Channels
                ?? throw new ArgumentException($"'{group}' is not a channel group of {network.Graph.Name}.");
            var staircase = LatencyStaircase.Measure(network.GetType(), group, Enumerable.Range((int)Math.Ceiling(channels * from), channels - (int)Math.Ceiling(channels * from) + 1), batch);
            var full = staircase.Points[^1].Milliseconds;
            Console.WriteLine();
            Console.WriteLine(string.Create(inv, $"| {group} width | ms | vs full width |"));
            Console.WriteLine("|---:|---:|---:|");
            foreach (var p in staircase.Points)
            {
                Console.WriteLine(string.Create(inv, $"| {p.Channels} | {p.Milliseconds:F3} | {p.Milliseconds / full:P1} |"));
            }

            Console.WriteLine();
            Console.WriteLine(string.Create(inv, $"Fast widths of {group} (each >1 % faster than every wider one): {string.Join(", ", staircase.FastWidths())}"));
        }

        return 0;
    }
}
