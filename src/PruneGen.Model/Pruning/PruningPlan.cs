using System;
using System.Collections.Generic;
using System.Linq;

namespace PruneGen.Model.Pruning;

/// <summary>
/// What to remove from a network: per channel group the channels it keeps, the residual blocks
/// removed whole and the plain layers removed whole (<see cref="RemovedLayers"/>). Stored as versioned JSON (see <c>PruneGen.Pruning.PlanFile</c>); the runtime slices
/// weights with it and the generator compiles the pruned network from it.
/// </summary>
/// <param name="Version">Format version (<see cref="CurrentVersion"/>).</param>
/// <param name="Network">Name of the base network it prunes.</param>
/// <param name="Criterion">The importance criterion that chose the channels (informational).</param>
/// <param name="Seed">Seed of the run that made it (informational).</param>
/// <param name="Groups">Pruned groups; a group not listed keeps all its channels.</param>
/// <param name="RemovedBlocks">Residual blocks removed whole.</param>
/// <param name="Summary">Costs before and after (informational; recomputed, never trusted).</param>
public sealed record PruningPlan(
    int Version,
    string Network,
    string Criterion,
    ulong Seed,
    EquatableArray<PlanGroup> Groups,
    EquatableArray<string> RemovedBlocks,
    PlanSummary? Summary)
{
    /// <summary>The plan format version this PruneGen writes and reads.</summary>
    public const int CurrentVersion = 1;

    /// <summary>
    /// Convolution and dense layers removed whole with their BatchNorm / activation chain (see
    /// <see cref="RemovableLayers"/>). Removing a layer joins the channels it read and the channels its
    /// readers read into one space, so a plan that removes layers names the groups of the network
    /// <em>without</em> those layers (<see cref="PlanValidator.GroupGraph"/>).
    /// </summary>
    public EquatableArray<string> RemovedLayers { get; init; } = EquatableArray<string>.Empty;

    /// <summary>The kept channels of group <paramref name="name"/>, or null when the plan keeps all of them.</summary>
    public PlanGroup? Group(string name) => Groups.FirstOrDefault(g => g.Name == name);
}

/// <summary>The channels one group keeps.</summary>
/// <param name="Name">The group's name (its first producer, see <see cref="ChannelGroup.Name"/>).</param>
/// <param name="Channels">Channels of the group in the base network (checked, so a plan cannot silently apply to another width).</param>
/// <param name="Kept">Kept channel indices, strictly increasing; their order is the pruned network's channel order.</param>
public sealed record PlanGroup(string Name, int Channels, EquatableArray<int> Kept);

/// <summary>Costs of the base and the pruned network, per sample.</summary>
/// <param name="BaseMacs">Multiply-accumulates of the base network.</param>
/// <param name="Macs">Multiply-accumulates of the pruned network.</param>
/// <param name="BaseParameters">Trainable parameters of the base network.</param>
/// <param name="Parameters">Trainable parameters of the pruned network.</param>
public sealed record PlanSummary(long BaseMacs, long Macs, long BaseParameters, long Parameters);

/// <summary>A problem with a plan: where in the plan (a JSON path such as <c>groups[2].kept[5]</c>) and what is wrong.</summary>
/// <param name="Path">JSON path of the offending entry; empty for the plan as a whole.</param>
/// <param name="Message">What is wrong and how to fix it, naming the entry.</param>
public sealed record PlanError(string Path, string Message);

/// <summary>Checks a plan against the network it prunes and turns it into builder overrides.</summary>
public static class PlanValidator
{
    /// <summary>Everything wrong with <paramref name="plan"/> for the network <paramref name="declaration"/> declares (empty when it applies cleanly).</summary>
    public static EquatableArray<PlanError> Validate(PruningPlan plan, NetworkDeclaration declaration)
    {
        var graph = NetworkBuilder.BuildOrThrow(declaration);
        var errors = new List<PlanError>();
        if (plan.Version != PruningPlan.CurrentVersion)
        {
            errors.Add(new PlanError("version", $"plan format version {plan.Version} is not supported; this PruneGen reads version {PruningPlan.CurrentVersion}. Re-create the plan with this version."));
            return new EquatableArray<PlanError>(errors.ToArray());
        }

        if (plan.Network != graph.Name)
        {
            errors.Add(new PlanError("network", $"the plan prunes '{plan.Network}', not '{graph.Name}'. Use a plan made for '{graph.Name}'."));
        }

        var layers = RemovableLayers.Analyze(graph);
        var removedLayers = new List<string>();
        var removedMembers = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < plan.RemovedLayers.Count; i++)
        {
            var name = plan.RemovedLayers[i];
            var path = $"removedLayers[{i}]";
            var layer = layers.FirstOrDefault(x => x.Name == name);
            if (layer is null)
            {
                var names = layers.Where(x => x.Removable).Select(x => x.Name).ToArray();
                errors.Add(new PlanError(path, $"'{name}' is not a convolution or dense layer outside the residual blocks of '{graph.Name}' ({(names.Length == 0 ? "it has no removable layers" : "its removable layers are " + string.Join(", ", names))})."));
            }
            else if (removedLayers.Contains(name))
            {
                errors.Add(new PlanError(path, $"layer '{name}' is listed twice; list it once."));
            }
            else if (!layer.Removable)
            {
                errors.Add(new PlanError(path, $"layer '{name}' cannot be removed: {layer.UnremovableReason}."));
            }
            else
            {
                removedLayers.Add(name);
                removedMembers.UnionWith(layer.Members);
            }
        }

        // Channel groups are those of the network without the removed layers (a removed layer joins its input's
        // channels with its readers'), so a plan's group names and slices refer to that network.
        var groups = ChannelGroups.Analyze(GroupGraph(graph, removedLayers));
        var blocks = ResidualBlocks.Analyze(graph);
        var removed = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < plan.RemovedBlocks.Count; i++)
        {
            var b = plan.RemovedBlocks[i];
            var path = $"removedBlocks[{i}]";
            var block = blocks.FirstOrDefault(x => x.Name == b);
            if (block is null)
            {
                var names = blocks.Count == 0 ? "it has none" : "its blocks are " + string.Join(", ", blocks.Select(x => x.Name));
                errors.Add(new PlanError(path, $"'{b}' is not a residual block of '{graph.Name}' ({names})."));
            }
            else if (!removed.Add(b))
            {
                errors.Add(new PlanError(path, $"block '{b}' is listed twice; list it once."));
            }
            else if (!block.Removable)
            {
                errors.Add(new PlanError(path, $"block '{b}' cannot be removed: {block.UnremovableReason}."));
            }
        }

        var named = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < plan.Groups.Count; i++)
        {
            var entry = plan.Groups[i];
            var path = $"groups[{i}]";
            var group = groups.Find(entry.Name);
            if (group is null)
            {
                var owner = groups.FirstOrDefault(g => g.Producers.Contains(entry.Name));
                var hint = removedMembers.Contains(entry.Name)
                    ? $"layer '{entry.Name}' is removed by this plan, so its channels are gone; delete this entry"
                    : owner is not null
                    ? $"layer '{entry.Name}' belongs to group '{owner.Name}'; name the group '{owner.Name}'"
                    : "the prunable groups are " + string.Join(", ", groups.Where(g => g.Prunable).Select(g => g.Name));
                errors.Add(new PlanError(path + ".name", $"'{entry.Name}' is not a channel group of '{graph.Name}': {hint}."));
                continue;
            }

            if (!named.Add(entry.Name))
            {
                errors.Add(new PlanError(path + ".name", $"group '{entry.Name}' is listed twice; list each group once."));
                continue;
            }

            if (!group.Prunable)
            {
                errors.Add(new PlanError(path + ".name", $"group '{entry.Name}' cannot be pruned: {group.UnprunableReason}."));
                continue;
            }

            var inside = group.Producers.Select(p => graph.Find(p)?.Block).FirstOrDefault(b => b is not null && removed.Contains(b));
            if (inside is not null && group.Producers.All(p => graph.Find(p)?.Block == inside))
            {
                errors.Add(new PlanError(path + ".name", $"group '{entry.Name}' lies inside removed block '{inside}'; delete this entry."));
                continue;
            }

            if (entry.Channels != group.Channels)
            {
                errors.Add(new PlanError(path + ".channels", $"group '{entry.Name}' has {group.Channels} channels in '{graph.Name}', but the plan says {entry.Channels}. The plan was made for a different network."));
                continue;
            }

            if (entry.Kept.Count == 0)
            {
                errors.Add(new PlanError(path + ".kept", $"group '{entry.Name}' keeps no channels; keep at least one (to drop a whole residual block, list it in removedBlocks)."));
                continue;
            }

            var seen = new HashSet<int>();
            for (var k = 0; k < entry.Kept.Count; k++)
            {
                var c = entry.Kept[k];
                var at = $"{path}.kept[{k}]";
                if (c < 0 || c >= group.Channels)
                {
                    errors.Add(new PlanError(at, $"group '{entry.Name}' keeps channel {c}, outside 0..{group.Channels - 1}."));
                }
                else if (!seen.Add(c))
                {
                    errors.Add(new PlanError(at, $"group '{entry.Name}' keeps channel {c} twice; list each kept channel once."));
                }
                else if (k > 0 && c < entry.Kept[k - 1])
                {
                    errors.Add(new PlanError(at, $"group '{entry.Name}' lists kept channel {c} after {entry.Kept[k - 1]}; list kept channels in increasing order."));
                }
            }
        }

        if (errors.Count == 0)
        {
            var build = NetworkBuilder.Build(declaration, ToOverrides(plan, graph, groups));
            foreach (var e in build.Errors)
            {
                errors.Add(new PlanError(string.Empty, $"the pruned network is invalid: {e.Id}: {e.Message}"));
            }
        }

        return new EquatableArray<PlanError>(errors.ToArray());
    }

    /// <summary>
    /// The builder overrides that turn the base network into the pruned one: every producer of a pruned
    /// group gets the group's kept count as its width; removed blocks are skipped. Assumes a valid plan.
    /// </summary>
    public static NetworkOverrides ToOverrides(PruningPlan plan, NetworkGraph graph) => ToOverrides(plan, graph, ChannelGroups.Analyze(GroupGraph(graph, plan.RemovedLayers)));

    /// <summary>
    /// The graph whose channel groups a plan removing <paramref name="removedLayers"/> names: the base network
    /// <paramref name="graph"/> without those layers and their chains, at full width (the graph itself when none
    /// are removed). Assumes the layers are removable.
    /// </summary>
    public static NetworkGraph GroupGraph(NetworkGraph graph, IReadOnlyCollection<string> removedLayers)
    {
        if (removedLayers.Count == 0)
        {
            return graph;
        }

        var declaration = graph.Declaration ?? throw new ArgumentException($"The graph of '{graph.Name}' carries no declaration, so layers cannot be removed from it.", nameof(graph));
        return NetworkBuilder.BuildOrThrow(declaration, NetworkOverrides.None with { RemovedLayers = new EquatableArray<string>(removedLayers.ToArray()) });
    }

    private static NetworkOverrides ToOverrides(PruningPlan plan, NetworkGraph graph, EquatableArray<ChannelGroup> groups)
    {
        var removed = new HashSet<string>(plan.RemovedBlocks, StringComparer.Ordinal);
        var widths = new List<ChannelOverride>();
        foreach (var entry in plan.Groups)
        {
            if (groups.Find(entry.Name) is not { } group || entry.Kept.Count == group.Channels)
            {
                continue;
            }

            foreach (var producer in group.Producers)
            {
                if (graph.Find(producer)?.Block is not { } b || !removed.Contains(b))
                {
                    widths.Add(new ChannelOverride(producer, entry.Kept.Count));
                }
            }

            // A depthwise convolution declared as a grouped Conv2D (groups = input = output channels) carries the
            // group's channels through without being a producer, but its declared size (and groups) must shrink
            // with them. One declared with [DepthwiseConv2D] follows its input by itself.
            foreach (var name in group.Layers)
            {
                if (graph.Find(name) is { Kind: LayerKind.Conv2D, Groups: > 1 } layer
                    && layer.Groups == layer.InputShape.Channels && layer.Groups == layer.OutputShape.Channels
                    && !group.Producers.Contains(name)
                    && (layer.Block is null || !removed.Contains(layer.Block))
                    && (graph.Declaration is null || graph.Declaration.Layers.Any(d => d.Name == name && d.Kind == LayerKind.Conv2D)))
                {
                    widths.Add(new ChannelOverride(name, entry.Kept.Count));
                }
            }
        }

        return new NetworkOverrides(new EquatableArray<ChannelOverride>(widths.ToArray()), plan.RemovedBlocks) { RemovedLayers = plan.RemovedLayers };
    }
}
