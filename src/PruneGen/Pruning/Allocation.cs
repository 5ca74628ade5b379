using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using PruneGen.Model;
using PruneGen.Model.Pruning;

namespace PruneGen.Pruning;

/// <summary>What a pruning step aims for.</summary>
public abstract record PruningTarget
{
    /// <summary>Remove this fraction of the channels (per group when uniform, of all channels when global).</summary>
    public static PruningTarget ChannelRatio(double ratio) => ratio is >= 0 and < 1
        ? new ChannelRatioTarget(ratio)
        : throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "The channel ratio must be in [0, 1).");

    /// <summary>Keep at most this fraction of the base network's MACs (0.5 = a 2× MAC reduction).</summary>
    public static PruningTarget MacsFraction(double fraction) => fraction is > 0 and <= 1
        ? new CostTarget(fraction, Macs: true)
        : throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The MAC fraction must be in (0, 1].");

    /// <summary>Divide the MACs by <paramref name="factor"/> (2 = half the MACs).</summary>
    public static PruningTarget MacsReduction(double factor) => factor >= 1
        ? MacsFraction(1 / factor)
        : throw new ArgumentOutOfRangeException(nameof(factor), factor, "The MAC reduction factor must be at least 1.");

    /// <summary>Keep at most this fraction of the base network's trainable parameters.</summary>
    public static PruningTarget ParametersFraction(double fraction) => fraction is > 0 and <= 1
        ? new CostTarget(fraction, Macs: false)
        : throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The parameter fraction must be in (0, 1].");
}

/// <summary>Remove a fraction of channels.</summary>
/// <param name="Ratio">Fraction removed.</param>
public sealed record ChannelRatioTarget(double Ratio) : PruningTarget
{
    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Ratio:P0} of channels");
}

/// <summary>Keep a fraction of MACs or parameters.</summary>
/// <param name="Fraction">Fraction of the base cost kept.</param>
/// <param name="Macs">True for MACs, false for parameters.</param>
public sealed record CostTarget(double Fraction, bool Macs) : PruningTarget
{
    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Fraction:P1} of {(Macs ? "MACs" : "parameters")}");
}

/// <summary>How channels are allocated to groups once they are scored.</summary>
public sealed record AllocationOptions
{
    /// <summary>The target (required).</summary>
    public required PruningTarget Target { get; init; }

    /// <summary>
    /// False (default): every group loses the same fraction (uniform). True: one ranking of normalized
    /// scores across all groups, so unimportant layers lose more.
    /// </summary>
    public bool Global { get; init; }

    /// <summary>Scaling of scores within a group before a global ranking.</summary>
    public ScoreNormalization Normalization { get; init; } = ScoreNormalization.Mean;

    /// <summary>Fixed removal ratios for named groups (or any of their producer layers), outside the search.</summary>
    public IReadOnlyDictionary<string, double> GroupRatios { get; init; } = new Dictionary<string, double>();

    /// <summary>Groups (or producer layers) never pruned.</summary>
    public IReadOnlyCollection<string> Protected { get; init; } = [];

    /// <summary>Largest fraction of a group that may be removed.</summary>
    public double MaxRatio { get; init; } = 0.9;

    /// <summary>Fewest channels a group keeps.</summary>
    public int MinChannels { get; init; } = 1;

    /// <summary>Kept counts are rounded up to a multiple of this (e.g. the SIMD width 16), unless the group is smaller.</summary>
    public int Multiple { get; init; } = 1;

    /// <summary>
    /// Widths each named group may take (ascending; a group not named is rounded by <see cref="Multiple"/>): a kept
    /// count is rounded up to the next listed width, or to the group's full width past the last. Measured fast
    /// widths (<c>PruneGen.Compiler.LatencyStaircase</c>, <c>GroupStaircase.FastWidths</c>) make the allocation land
    /// on the widths where the kernels are fast instead of blind multiples.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<int>> Widths { get; init; } = new Dictionary<string, IReadOnlyList<int>>();
}

/// <summary>Turns channel scores into a plan that meets a target.</summary>
public static class Allocator
{
    /// <summary>
    /// Chooses the channels to keep in each group so that <paramref name="options"/>' target is met, keeping the
    /// highest-scoring channels. Channels a <paramref name="previous"/> plan removed stay removed (iterative pruning).
    /// </summary>
    /// <param name="network">The base (unpruned) network.</param>
    /// <param name="scores">
    /// Per group of <see cref="ChannelGroups.Analyze"/> on <see cref="PlanValidator.GroupGraph"/> (the network without
    /// <paramref name="removedLayers"/>; <see cref="ImportanceContext"/> scores those groups when given the same layers):
    /// channel scores, or null to keep it whole.
    /// </param>
    /// <param name="options">Target and constraints.</param>
    /// <param name="criterion">Criterion name recorded in the plan.</param>
    /// <param name="seed">Seed recorded in the plan.</param>
    /// <param name="removedBlocks">Residual blocks removed whole (from depth pruning).</param>
    /// <param name="previous">An earlier plan whose removals are kept.</param>
    /// <param name="removedLayers">Plain layers removed whole (from <see cref="BlockPruning.ScoreLayers"/>); defaults to <paramref name="previous"/>'s.</param>
    /// <exception cref="InvalidOperationException">The target cannot be reached within the constraints; the message gives the closest reachable cost.</exception>
    public static PruningPlan Allocate(INetwork network, IReadOnlyList<float[]?> scores, AllocationOptions options, string criterion, ulong seed, IReadOnlyList<string>? removedBlocks = null, PruningPlan? previous = null, IReadOnlyList<string>? removedLayers = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(options);
        var graph = network.Graph;
        var declaration = graph.Declaration ?? throw new ArgumentException("The network's graph carries no declaration.", nameof(network));
        if (!graph.Overrides.IsEmpty)
        {
            throw new ArgumentException(PrunedBaseMessage($"'{network.GetType().Name}'", graph), nameof(network));
        }

        var layers = new EquatableArray<string>((removedLayers ?? previous?.RemovedLayers.ToArray() ?? []).ToArray());
        var groups = ChannelGroups.Analyze(PlanValidator.GroupGraph(graph, layers));
        if (scores.Count != groups.Count)
        {
            throw new ArgumentException($"Expected scores for {groups.Count} groups, got {scores.Count}.", nameof(scores));
        }

        var removed = new HashSet<string>(removedBlocks ?? previous?.RemovedBlocks.ToArray() ?? [], StringComparer.Ordinal);
        var slots = new List<Slot>();
        for (var i = 0; i < groups.Count; i++)
        {
            var g = groups[i];
            if (!g.Prunable || g.Producers.All(p => graph.Find(p)!.Block is { } b && removed.Contains(b)))
            {
                continue;
            }

            var prior = previous?.Group(g.Name);
            var ceiling = prior?.Kept.Count ?? g.Channels;
            var normalized = Normalize(scores[i], options.Normalization, g.Channels);
            if (prior is not null)
            {
                // A group the criterion does not score (kept as it is) still keeps exactly the previous plan's channels.
                normalized ??= new float[g.Channels];
                var keptBefore = new HashSet<int>(prior.Kept);
                for (var c = 0; c < g.Channels; c++)
                {
                    if (!keptBefore.Contains(c))
                    {
                        normalized![c] = float.NegativeInfinity;
                    }
                }
            }

            var names = g.Producers.Append(g.Name).ToArray();
            var isProtected = scores[i] is null || names.Any(options.Protected.Contains);
            double? fixedRatio = names.Select(n => options.GroupRatios.TryGetValue(n, out var r) ? r : (double?)null).FirstOrDefault(r => r is not null);
            var floor = Math.Min(ceiling, Math.Max(options.MinChannels, (int)Math.Ceiling(g.Channels * (1 - options.MaxRatio) - 1e-9)));
            slots.Add(new Slot(g, normalized, ceiling, floor, isProtected, fixedRatio));
        }

        var blocks = new EquatableArray<string>(removed.OrderBy(b => b, StringComparer.Ordinal).ToArray());
        var baseGraph = NetworkBuilder.BuildOrThrow(declaration);

        PruningPlan Build(Func<Slot, int> keepOf)
        {
            var entries = new List<PlanGroup>();
            foreach (var s in slots)
            {
                var keep = s.Protected ? s.Ceiling : s.FixedRatio is { } r ? s.Clamp(RoundUp((int)Math.Round(s.Group.Channels * (1 - r)), options, s.Group)) : keepOf(s);
                if (keep < s.Group.Channels)
                {
                    entries.Add(new PlanGroup(s.Group.Name, s.Group.Channels, new EquatableArray<int>(s.Top(keep))));
                }
            }

            return new PruningPlan(PruningPlan.CurrentVersion, graph.Name, criterion, seed, new EquatableArray<PlanGroup>(entries.ToArray()), blocks, null) { RemovedLayers = layers };
        }

        Func<Slot, int> uniform(double ratio) => s => s.Clamp(RoundUp((int)Math.Round(s.Group.Channels * (1 - ratio)), options, s.Group));
        Func<Slot, int> global(float threshold) => s => s.Clamp(RoundUp(s.Scores!.Count(v => v > threshold), options, s.Group));

        var free = slots.Where(s => !s.Protected && s.FixedRatio is null).ToList();
        var all = free.SelectMany(s => s.Scores!).Where(float.IsFinite).OrderBy(v => v).ToArray();
        PruningPlan plan;
        switch (options.Target)
        {
            case ChannelRatioTarget c when !options.Global:
                plan = Build(uniform(c.Ratio));
                break;
            case ChannelRatioTarget c:
                {
                    // Remove exactly the lowest-scoring ratio·N channels of all free groups (ties: earlier group first; within
                    // a group, Top keeps lower indices). A score threshold would also remove every channel tied with the last one.
                    var cut = (int)Math.Floor(c.Ratio * all.Length);
                    var removedPer = new Dictionary<Slot, int>(ReferenceEqualityComparer.Instance);
                    foreach (var s in free)
                    {
                        removedPer[s] = 0;
                    }

                    var ranked = free
                        .SelectMany((s, k) => s.Scores!.Select((v, ch) => (Slot: s, Score: v, Group: k, Channel: ch)))
                        .Where(x => float.IsFinite(x.Score))
                        .OrderBy(x => x.Score).ThenBy(x => x.Group).ThenByDescending(x => x.Channel)
                        .Take(cut);
                    foreach (var x in ranked)
                    {
                        removedPer[x.Slot]++;
                    }

                    plan = Build(s => s.Clamp(RoundUp(s.Ceiling - removedPer[s], options, s.Group)));
                    break;
                }

            case CostTarget t:
                {
                    var baseCost = t.Macs ? baseGraph.TotalMacs : baseGraph.TotalParameters;
                    var budget = t.Fraction * baseCost;
                    long CostOf(PruningPlan p)
                    {
                        var g = NetworkBuilder.BuildOrThrow(declaration, PlanValidator.ToOverrides(p, graph));
                        return t.Macs ? g.TotalMacs : g.TotalParameters;
                    }

                    if (!options.Global)
                    {
                        double lo = 0, hi = options.MaxRatio;
                        var best = Build(uniform(hi));
                        if (CostOf(best) > budget)
                        {
                            throw Unreachable(t, CostOf(best), baseCost, options);
                        }

                        for (var iteration = 0; iteration < 40; iteration++)
                        {
                            var mid = (lo + hi) / 2;
                            var candidate = Build(uniform(mid));
                            if (CostOf(candidate) <= budget)
                            {
                                hi = mid;
                                best = candidate;
                            }
                            else
                            {
                                lo = mid;
                            }
                        }

                        plan = best;
                    }
                    else
                    {
                        // Smallest threshold (fewest removals) whose plan fits the budget: the cost falls as the threshold rises.
                        var thresholds = new[] { float.NegativeInfinity }.Concat(all.Distinct()).ToArray();
                        var most = Build(global(float.PositiveInfinity));
                        if (CostOf(most) > budget)
                        {
                            throw Unreachable(t, CostOf(most), baseCost, options);
                        }

                        int lo = 0, hi = thresholds.Length;
                        while (lo < hi)
                        {
                            var mid = (lo + hi) / 2;
                            if (CostOf(Build(global(thresholds[mid]))) <= budget)
                            {
                                hi = mid;
                            }
                            else
                            {
                                lo = mid + 1;
                            }
                        }

                        plan = lo < thresholds.Length ? Build(global(thresholds[lo])) : most;
                    }

                    break;
                }

            default:
                throw new ArgumentException($"Unknown target {options.Target}.", nameof(options));
        }

        var pruned = NetworkBuilder.BuildOrThrow(declaration, PlanValidator.ToOverrides(plan, graph));
        return plan with { Summary = new PlanSummary(baseGraph.TotalMacs, pruned.TotalMacs, baseGraph.TotalParameters, pruned.TotalParameters) };
    }

    /// <summary>Why a network that is itself pruned (a base declaration with overrides) cannot be pruned by a plan.</summary>
    /// <param name="what">The network as the message names it, e.g. its type name in quotes.</param>
    /// <param name="graph">Its graph.</param>
    internal static string PrunedBaseMessage(string what, NetworkGraph graph) =>
        $"{what} is itself a pruned network (the base declaration '{graph.Declaration?.Name}' with a plan's widths); plans are relative to an unpruned [Network], whose channel indices and costs they name. Prune the base network instead: its plan can keep fewer channels than this one does.";

    /// <summary>The cost of the network <paramref name="plan"/> leaves: its graph built with the plan's overrides.</summary>
    public static NetworkGraph PrunedGraph(NetworkGraph graph, PruningPlan plan)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(plan);
        return NetworkBuilder.BuildOrThrow(graph.Declaration!, PlanValidator.ToOverrides(plan, graph));
    }

    private static InvalidOperationException Unreachable(CostTarget t, long reachable, long baseCost, AllocationOptions options) =>
        new(string.Create(CultureInfo.InvariantCulture,
            $"The target ({t}) cannot be reached: removing as much as the constraints allow (max ratio {options.MaxRatio:P0} per group, at least {options.MinChannels} channels, multiples of {options.Multiple}, protected groups kept) still leaves {(double)reachable / baseCost:P1}. Raise MaxRatio, unprotect groups or remove residual blocks."));

    private static int RoundUp(int keep, AllocationOptions options, ChannelGroup group)
    {
        var channels = group.Channels;
        if (options.Widths.TryGetValue(group.Name, out var widths))
        {
            foreach (var w in widths)
            {
                if (w >= keep)
                {
                    return Math.Min(w, channels);
                }
            }

            return channels;
        }

        var multiple = options.Multiple;
        if (multiple > 1)
        {
            keep = (keep + multiple - 1) / multiple * multiple;
        }

        return Math.Min(keep, channels);
    }

    private static float[]? Normalize(float[]? scores, ScoreNormalization normalization, int channels)
    {
        if (scores is null)
        {
            return null;
        }

        if (scores.Length != channels)
        {
            throw new ArgumentException($"A group of {channels} channels got {scores.Length} scores.", nameof(scores));
        }

        var copy = (float[])scores.Clone();
        var divisor = normalization switch
        {
            ScoreNormalization.Mean => copy.Average(),
            ScoreNormalization.Max => copy.Max(),
            ScoreNormalization.Sum => copy.Sum(),
            _ => 1f,
        };
        if (divisor > 0 && float.IsFinite(divisor))
        {
            for (var i = 0; i < copy.Length; i++)
            {
                copy[i] /= divisor;
            }
        }

        return copy;
    }

    private sealed record Slot(ChannelGroup Group, float[]? Scores, int Ceiling, int Floor, bool Protected, double? FixedRatio)
    {
        public int Clamp(int keep) => Math.Clamp(keep, Floor, Ceiling);

        /// <summary>The <paramref name="keep"/> highest-scoring channels (ties: lower index first), in increasing index order.</summary>
        public int[] Top(int keep)
        {
            var scores = Scores;
            if (scores is null)
            {
                return Enumerable.Range(0, Math.Min(keep, Group.Channels)).ToArray();
            }

            return Enumerable.Range(0, scores.Length).OrderByDescending(c => scores[c]).ThenBy(c => c).Take(keep).OrderBy(c => c).ToArray();
        }
    }
}
