using System.Collections.Generic;
using System.Globalization;
using Microsoft.CodeAnalysis.Text;
using PruneGen.Generators.Diagnostics;
using PruneGen.Model;
using PruneGen.Model.Pruning;

namespace PruneGen.Generators.Plans;

/// <summary>Where one JSON node of a plan file is: its JSON path (<c>groups[2].kept[5]</c>) and its span.</summary>
/// <param name="Path">The node's JSON path, as <see cref="PlanError.Path"/> writes it (empty for the root).</param>
/// <param name="Span">Character span of the value.</param>
/// <param name="LineSpan">Line and column span of the value (0-based).</param>
internal sealed record PlanNodeSpan(string Path, TextSpan Span, LinePositionSpan LineSpan);

/// <summary>A plan problem already located in the plan file (syntax or structure).</summary>
/// <param name="Id">The rule (<see cref="PrunedNetworkDiagnostics"/>).</param>
/// <param name="Path">JSON path of the node it is about (empty: the file, or a syntax error).</param>
/// <param name="Message">What is wrong.</param>
/// <param name="Span">Where.</param>
/// <param name="LineSpan">Where, in lines and columns.</param>
internal sealed record PlanProblem(string Id, string Path, string Message, TextSpan Span, LinePositionSpan LineSpan);

/// <summary>
/// One plan file, parsed on its own (so editing one plan re-parses only that plan): the plan when its
/// syntax and structure are valid, every problem found with its location, and the position of every
/// JSON node so that the problems the validator finds later (by JSON path) can be located too.
/// </summary>
/// <param name="FilePath">The AdditionalFiles path.</param>
/// <param name="Plan">The plan, or null when it has syntax or structure problems.</param>
/// <param name="Problems">Syntax and structure problems.</param>
/// <param name="Nodes">Every node's path and span (empty after a syntax error).</param>
internal sealed record ParsedPlan(string FilePath, PruningPlan? Plan, EquatableArray<PlanProblem> Problems, EquatableArray<PlanNodeSpan> Nodes)
{
    /// <summary>
    /// The span to report an error with JSON path <paramref name="path"/> at: the node itself, else its
    /// closest listed parent (a missing property is reported at the object that lacks it), else the file start.
    /// </summary>
    public PlanNodeSpan Locate(string path)
    {
        var map = new Dictionary<string, PlanNodeSpan>();
        foreach (var n in Nodes)
        {
            map[n.Path] = n;
        }

        while (true)
        {
            if (map.TryGetValue(path, out var node))
            {
                return node;
            }

            if (path.Length == 0)
            {
                return new PlanNodeSpan(string.Empty, new TextSpan(0, 0), default);
            }

            var cut = System.Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
            path = cut <= 0 ? string.Empty : path.Substring(0, cut);
        }
    }
}

/// <summary>
/// Reads a plan file in the generator: <see cref="JsonTree"/> for syntax with positions, then the same
/// structural rules and messages as the runtime's <c>PlanFile</c> (required properties, types, the
/// <c>format</c> marker, the version).
/// </summary>
internal static class PlanJson
{
    /// <summary>The value of the <c>format</c> property.</summary>
    public const string Format = "prunegen.plan";

    public static ParsedPlan Parse(string filePath, SourceText text)
    {
        var content = text.ToString();
        JsonNode root;
        try
        {
            root = JsonTree.Parse(content);
        }
        catch (JsonSyntaxException e)
        {
            var at = System.Math.Min(e.Position, content.Length);
            var span = new TextSpan(at, at < content.Length ? 1 : 0);
            var lines = text.Lines.GetLinePositionSpan(span);
            var message = $"not valid JSON at line {lines.Start.Line + 1}, column {lines.Start.Character + 1}: {e.Message}.";
            return new ParsedPlan(filePath, null, new EquatableArray<PlanProblem>(new[] { new PlanProblem(PrunedNetworkDiagnostics.PlanNotJson, string.Empty, message, span, lines) }), EquatableArray<PlanNodeSpan>.Empty);
        }

        var nodes = new List<PlanNodeSpan>();
        Index(root, string.Empty, text, nodes);
        var reader = new Reader();
        var plan = reader.ReadPlan(root);
        var parsed = new ParsedPlan(filePath, null, EquatableArray<PlanProblem>.Empty, new EquatableArray<PlanNodeSpan>(nodes.ToArray()));
        if (reader.Errors.Count == 0 && plan is not null)
        {
            return parsed with { Plan = plan };
        }

        var problems = new List<PlanProblem>();
        foreach (var error in reader.Errors)
        {
            var node = parsed.Locate(error.Path);
            problems.Add(new PlanProblem(PrunedNetworkDiagnostics.PlanMalformed, error.Path, error.Message, node.Span, node.LineSpan));
        }

        return parsed with { Problems = new EquatableArray<PlanProblem>(problems.ToArray()) };
    }

    private static void Index(JsonNode node, string path, SourceText text, List<PlanNodeSpan> nodes)
    {
        var span = TextSpan.FromBounds(node.Start, node.End);
        nodes.Add(new PlanNodeSpan(path, span, text.Lines.GetLinePositionSpan(span)));
        foreach (var p in node.Properties)
        {
            Index(p.Value, Join(path, p.Key), text, nodes);
        }

        for (var i = 0; i < node.Items.Count; i++)
        {
            Index(node.Items[i], path + "[" + i.ToString(CultureInfo.InvariantCulture) + "]", text, nodes);
        }
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : path + "." + name;

    /// <summary>Structural reading that collects every problem with its JSON path (mirrors <c>PlanFile</c>'s reader).</summary>
    private sealed class Reader
    {
        public List<PlanError> Errors { get; } = new();

        public PruningPlan? ReadPlan(JsonNode root)
        {
            if (root.Kind != JsonKind.Object)
            {
                Errors.Add(new PlanError(string.Empty, $"expected a JSON object, found {root.Describe()}."));
                return null;
            }

            Known(root, string.Empty, "format", "version", "network", "criterion", "seed", "groups", "removedBlocks", "removedLayers", "summary");
            var format = String(root, "format", required: true);
            if (format is not null && format != Format)
            {
                Errors.Add(new PlanError("format", $"is '{format}', expected '{Format}'; this is not a PruneGen pruning plan."));
            }

            var version = Integer(root, "version", required: true) ?? 0;
            if (version != 0 && version != PruningPlan.CurrentVersion)
            {
                Errors.Add(new PlanError("version", $"plan format version {version} is not supported; this PruneGen reads version {PruningPlan.CurrentVersion}. Re-create the plan with this version."));
                return null;
            }

            var network = String(root, "network", required: true) ?? string.Empty;
            var criterion = String(root, "criterion", required: false) ?? string.Empty;
            var seed = 0UL;
            if (root.Get("seed") is { } seedNode)
            {
                if (seedNode.Kind == JsonKind.Number && ulong.TryParse(seedNode.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var s))
                {
                    seed = s;
                }
                else
                {
                    Errors.Add(new PlanError("seed", $"expected a non-negative integer, found {seedNode.Describe()}."));
                }
            }

            var groups = new List<PlanGroup>();
            if (Array(root, "groups", required: true) is { } groupArray)
            {
                for (var i = 0; i < groupArray.Items.Count; i++)
                {
                    var g = groupArray.Items[i];
                    var path = $"groups[{i}]";
                    if (g.Kind != JsonKind.Object)
                    {
                        Errors.Add(new PlanError(path, $"expected an object {{ \"name\", \"channels\", \"kept\" }}, found {g.Describe()}."));
                        continue;
                    }

                    Known(g, path, "name", "channels", "kept");
                    var name = String(g, "name", required: true, path);
                    var channels = Integer(g, "channels", required: true, path);
                    var kept = new List<int>();
                    if (Array(g, "kept", required: true, path) is { } keptArray)
                    {
                        for (var k = 0; k < keptArray.Items.Count; k++)
                        {
                            var v = keptArray.Items[k];
                            if (v.Kind == JsonKind.Number && TryInt(v.Text, out var index))
                            {
                                kept.Add(index);
                            }
                            else
                            {
                                Errors.Add(new PlanError($"{path}.kept[{k}]", $"expected a channel index (an integer), found {v.Describe()}."));
                            }
                        }
                    }

                    if (name is not null && channels is not null)
                    {
                        groups.Add(new PlanGroup(name, channels.Value, new EquatableArray<int>(kept.ToArray())));
                    }
                }
            }

            var removed = Names(root, "removedBlocks", "a block name");
            var removedLayers = Names(root, "removedLayers", "a layer name");

            PlanSummary? summary = null;
            if (root.Get("summary") is { Kind: JsonKind.Object } sum)
            {
                summary = new PlanSummary(Long(sum, "baseMacs"), Long(sum, "macs"), Long(sum, "baseParameters"), Long(sum, "parameters"));
            }

            return new PruningPlan(version, network, criterion, seed, new EquatableArray<PlanGroup>(groups.ToArray()), new EquatableArray<string>(removed.ToArray()), summary)
            {
                RemovedLayers = new EquatableArray<string>(removedLayers.ToArray()),
            };
        }

        /// <summary>The strings of the optional array <paramref name="property"/>; each other value is an error naming <paramref name="what"/> it should be.</summary>
        private List<string> Names(JsonNode root, string property, string what)
        {
            var names = new List<string>();
            if (Array(root, property, required: false) is { } array)
            {
                for (var i = 0; i < array.Items.Count; i++)
                {
                    var b = array.Items[i];
                    if (b.Kind == JsonKind.String)
                    {
                        names.Add(b.Text!);
                    }
                    else
                    {
                        Errors.Add(new PlanError($"{property}[{i}]", $"expected {what} (a string), found {b.Describe()}."));
                    }
                }
            }

            return names;
        }

        private static bool TryInt(string? text, out int value) =>
            int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

        private static long Long(JsonNode obj, string name) =>
            obj.Get(name) is { Kind: JsonKind.Number } v && long.TryParse(v.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var x) ? x : 0;

        private void Known(JsonNode obj, string path, params string[] names)
        {
            foreach (var p in obj.Properties)
            {
                if (System.Array.IndexOf(names, p.Key) < 0)
                {
                    Errors.Add(new PlanError(Join(path, p.Key), $"unknown property '{p.Key}'; the properties here are {string.Join(", ", names)}."));
                }
            }
        }

        private JsonNode? Get(JsonNode obj, string name, bool required, string path)
        {
            if (obj.Get(name) is { } value)
            {
                return value;
            }

            if (required)
            {
                Errors.Add(new PlanError(Join(path, name), $"the required property '{name}' is missing."));
            }

            return null;
        }

        private string? String(JsonNode obj, string name, bool required, string path = "")
        {
            if (Get(obj, name, required, path) is not { } v)
            {
                return null;
            }

            if (v.Kind != JsonKind.String)
            {
                Errors.Add(new PlanError(Join(path, name), $"expected a string, found {v.Describe()}."));
                return null;
            }

            return v.Text;
        }

        private int? Integer(JsonNode obj, string name, bool required, string path = "")
        {
            if (Get(obj, name, required, path) is not { } v)
            {
                return null;
            }

            if (v.Kind != JsonKind.Number || !TryInt(v.Text, out var x))
            {
                Errors.Add(new PlanError(Join(path, name), $"expected an integer, found {v.Describe()}."));
                return null;
            }

            return x;
        }

        private JsonNode? Array(JsonNode obj, string name, bool required, string path = "")
        {
            if (Get(obj, name, required, path) is not { } v)
            {
                return null;
            }

            if (v.Kind != JsonKind.Array)
            {
                Errors.Add(new PlanError(Join(path, name), $"expected an array, found {v.Describe()}."));
                return null;
            }

            return v;
        }
    }
}
