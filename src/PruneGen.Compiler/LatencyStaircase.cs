using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Linq;
using PruneGen.Model;
using PruneGen.Model.Pruning;

namespace PruneGen.Compiler;

/// <summary>One step of a staircase: the network's forward latency with one group at <paramref name="Channels"/>.</summary>
/// <param name="Channels">The group's width.</param>
/// <param name="Milliseconds">Median time of one forward pass at the staircase's batch size.</param>
public sealed record WidthLatency(int Channels, double Milliseconds);

/// <summary>How a network's latency steps with the width of one of its channel groups, every other group at full width.</summary>
/// <param name="Group">The channel group.</param>
/// <param name="BaseChannels">Its width in the base network.</param>
/// <param name="Batch">Batch size of the measurements.</param>
/// <param name="Points">The measurements, by increasing width.</param>
public sealed record GroupStaircase(string Group, int BaseChannels, int Batch, IReadOnlyList<WidthLatency> Points)
{
    /// <summary>
    /// The widths worth pruning to: walking from the widest measured width down, a width is kept only when it is
    /// faster than every wider kept width by more than <paramref name="tolerance"/> (a fraction). Any width in
    /// between costs about as much as the next fast width above it, so an allocation should round up to that one
    /// (more channels, no more time): give the result to <c>AllocationOptions.Widths</c>.
    /// </summary>
    public IReadOnlyList<int> FastWidths(double tolerance = 0.01)
    {
        var fast = new List<int>();
        var best = double.PositiveInfinity;
        foreach (var p in Points.OrderByDescending(p => p.Channels))
        {
            if (p.Milliseconds < best * (1 - tolerance))
            {
                fast.Add(p.Channels);
                best = p.Milliseconds;
            }
        }

        fast.Reverse();
        return fast;
    }
}

/// <summary>
/// Measures latency staircases: for each candidate width of a channel group, the base network with that group
/// pruned to the width (its first channels; every other group whole) is compiled with <see cref="PrunedNetworkCompiler"/>
/// and its forward pass timed. Kernels are specialized to their widths, so this is the latency the pruned network
/// will have — including the steps where a width stops filling a register block or a SIMD vector.
/// </summary>
public static class LatencyStaircase
{
    /// <summary>Measures <paramref name="group"/> of <paramref name="baseNetwork"/> at each of <paramref name="widths"/>.</summary>
    /// <param name="baseNetwork">A public <c>[Network]</c> class (see <see cref="PrunedNetworkCompiler"/>).</param>
    /// <param name="group">A prunable channel group of it.</param>
    /// <param name="widths">Widths between 1 and the group's channels.</param>
    /// <param name="batch">Batch size of the forward passes (64: stable medians; 1: latency-bound serving).</param>
    /// <param name="samples">Samples per round (each times enough passes to last about 20 ms); rounds repeat until two medians agree within 2 %.</param>
    /// <param name="warmUp">Batch-1 forward passes (at least 100) run for this long before sampling, so the JIT has tiered the fresh class up (default 1 s).</param>
    /// <exception cref="ArgumentException">The group is unknown or unprunable, or a width is out of range.</exception>
    [RequiresDynamicCode("Compiles and loads an assembly at run time.")]
    [RequiresUnreferencedCode("Compiles and loads an assembly at run time.")]
    public static GroupStaircase Measure(Type baseNetwork, string group, IEnumerable<int> widths, int batch = 64, int samples = 9, TimeSpan? warmUp = null)
    {
        ArgumentNullException.ThrowIfNull(baseNetwork);
        ArgumentNullException.ThrowIfNull(widths);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        var graph = PrunedNetworkCompiler.StaticGraph(baseNetwork)
            ?? throw new ArgumentException($"'{baseNetwork.FullName}' is not a generated [Network] class (it has no static Graph).", nameof(baseNetwork));
        var channelGroup = ChannelGroups.Analyze(graph).Find(group);
        if (channelGroup is not { Prunable: true })
        {
            var prunable = string.Join(", ", ChannelGroups.Analyze(graph).Where(g => g.Prunable).Select(g => g.Name));
            throw new ArgumentException(channelGroup is null
                ? $"'{group}' is not a channel group of '{graph.Name}'; its prunable groups are {prunable}."
                : $"Group '{group}' of '{graph.Name}' cannot be pruned: {channelGroup.UnprunableReason}.", nameof(group));
        }

        var points = new List<WidthLatency>();
        foreach (var width in widths.Distinct().Order())
        {
            if (width < 1 || width > channelGroup.Channels)
            {
                throw new ArgumentException($"Width {width} of group '{group}' is outside 1..{channelGroup.Channels}.", nameof(widths));
            }

            var kept = new EquatableArray<PlanGroup>(width == channelGroup.Channels
                ? []
                : [new PlanGroup(group, channelGroup.Channels, new EquatableArray<int>(Enumerable.Range(0, width).ToArray()))]);
            var plan = new PruningPlan(PruningPlan.CurrentVersion, graph.Name, "staircase", 0, kept, EquatableArray<string>.Empty, null);
            var network = PrunedNetworkCompiler.Compile(baseNetwork, plan, $"{baseNetwork.Name}_{NetworkBuilder.ToIdentifier(group)}_{width}").Create();
            points.Add(new WidthLatency(width, Median(network, batch, samples, warmUp ?? TimeSpan.FromSeconds(1))));
        }

        return new GroupStaircase(group, channelGroup.Channels, batch, points);
    }

    private static double Median(INetwork network, int batch, int samples, TimeSpan warmUp)
    {
        var input = new float[batch * network.InputSize];
        var output = new float[batch * network.OutputSize];

        // A fresh class runs its kernels' unoptimized first JIT tier until the runtime has counted enough calls
        // and recompiled them, two to three times slower: warm up with many cheap batch-1 passes (the kernels
        // are the same methods at every batch size) for the warm-up time, then time a few passes at the batch.
        var clock = Stopwatch.StartNew();
        for (var calls = 0; calls < 100 || clock.Elapsed < warmUp; calls++)
        {
            network.Forward(input.AsSpan(0, network.InputSize), output.AsSpan(0, network.OutputSize), 1);
        }

        clock.Restart();
        const int Probe = 3;
        for (var r = 0; r < Probe; r++)
        {
            network.Forward(input, output, batch);
        }

        // Passes per sample: about 20 ms worth. Rounds of samples repeat until two medians in a row agree within
        // 2 % (at most 10 rounds): tier-1 compilation of a large class finishes in the background, on a core the
        // measurement shares, and a median taken while it runs is not the network's latency.
        var runs = Math.Max(1, (int)(Probe * 20 / Math.Max(clock.Elapsed.TotalMilliseconds, 0.001)));
        var times = new double[samples];
        var previous = double.NaN;
        for (var round = 0; round < 10; round++)
        {
            for (var s = 0; s < samples; s++)
            {
                clock.Restart();
                for (var r = 0; r < runs; r++)
                {
                    network.Forward(input, output, batch);
                }

                times[s] = clock.Elapsed.TotalMilliseconds / runs;
            }

            Array.Sort(times);
            var median = times[samples / 2];
            if (Math.Abs(median - previous) <= 0.02 * median)
            {
                return Math.Min(median, previous);
            }

            previous = median;
        }

        return previous;
    }
}
