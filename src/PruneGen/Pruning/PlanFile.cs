using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using PruneGen.IO;
using PruneGen.Model;
using PruneGen.Model.Pruning;

namespace PruneGen.Pruning;

/// <summary>A pruning plan file that cannot be read or does not fit the network; lists every problem found.</summary>
public sealed class PlanException : Exception
{
    /// <summary>Creates the exception for <paramref name="source"/> (a file path or a name) and its problems.</summary>
    public PlanException(string source, IReadOnlyList<PlanError> errors)
        : base(Format(source, errors))
    {
        Source = source;
        Errors = errors;
    }

    /// <summary>The plan file (or the name the plan text was given).</summary>
    public new string Source { get; }

    /// <summary>Every problem, each with the JSON path of its entry.</summary>
    public IReadOnlyList<PlanError> Errors { get; }

    private static string Format(string source, IReadOnlyList<PlanError> errors)
    {
        var sb = new StringBuilder();
        sb.Append("Pruning plan '").Append(source).Append("' ").Append(errors.Count == 1 ? "has a problem:" : $"has {errors.Count} problems:");
        foreach (var e in errors)
        {
            sb.AppendLine().Append("  ").Append(e.Path.Length == 0 ? string.Empty : e.Path + ": ").Append(e.Message);
        }

        return sb.ToString();
    }
}

/// <summary>
/// Reads and writes pruning plans as versioned, human-readable JSON:
/// <code>
/// {
///   "format": "prunegen.plan",
///   "version": 1,
///   "network": "VggNet",
///   "criterion": "l1",
///   "seed": 1,
///   "groups": [ { "name": "conv1", "channels": 32, "kept": [0, 2, 3, ...] }, ... ],
///   "removedBlocks": [],
///   "removedLayers": ["conv4"],
///   "summary": { "baseMacs": 29424640, "macs": 14627584, "baseParameters": 585066, "parameters": 301866 }
/// }
/// </code>
/// Groups not listed keep every channel. <c>removedLayers</c> (optional, written only when the plan removes
/// layers) lists plain convolution / dense layers removed with their chains; the groups of such a plan are
/// those of the network without them. Writes are atomic (temporary file, then rename).
/// </summary>
public static class PlanFile
{
    /// <summary>The value of the <c>format</c> property.</summary>
    public const string Format = "prunegen.plan";

    /// <summary>Writes <paramref name="plan"/> to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, PruningPlan plan)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = Encoding.UTF8.GetBytes(ToJson(plan));
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    /// <summary>The plan as JSON text (kept indices on one line per group).</summary>
    public static string ToJson(PruningPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("format", Format);
            w.WriteNumber("version", plan.Version);
            w.WriteString("network", plan.Network);
            w.WriteString("criterion", plan.Criterion);
            w.WriteNumber("seed", plan.Seed);
            w.WriteStartArray("groups");
            foreach (var g in plan.Groups)
            {
                w.WriteStartObject();
                w.WriteString("name", g.Name);
                w.WriteNumber("channels", g.Channels);
                w.WritePropertyName("kept");
                w.WriteRawValue("[" + string.Join(", ", g.Kept.Select(k => k.ToString(CultureInfo.InvariantCulture))) + "]");
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("removedBlocks");
            foreach (var b in plan.RemovedBlocks)
            {
                w.WriteStringValue(b);
            }

            w.WriteEndArray();
            if (plan.RemovedLayers.Count > 0)
            {
                w.WriteStartArray("removedLayers");
                foreach (var l in plan.RemovedLayers)
                {
                    w.WriteStringValue(l);
                }

                w.WriteEndArray();
            }

            if (plan.Summary is { } s)
            {
                w.WriteStartObject("summary");
                w.WriteNumber("baseMacs", s.BaseMacs);
                w.WriteNumber("macs", s.Macs);
                w.WriteNumber("baseParameters", s.BaseParameters);
                w.WriteNumber("parameters", s.Parameters);
                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>Reads the plan in <paramref name="path"/> (syntax and structure only).</summary>
    /// <exception cref="PlanException">The file is not a well-formed plan; the message names the file and each problem.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    public static PruningPlan Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Pruning plan '{path}' does not exist.", path);
        }

        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Reads the plan in <paramref name="path"/> and checks it against <paramref name="network"/>.</summary>
    /// <exception cref="PlanException">The file is malformed or does not fit the network (unknown groups or blocks, out-of-range or duplicate indices, empty groups, version mismatch).</exception>
    public static PruningPlan Load(string path, INetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var plan = Read(path);
        Validate(plan, network.Graph, path);
        return plan;
    }

    /// <summary>Throws <see cref="PlanException"/> naming <paramref name="source"/> if <paramref name="plan"/> does not fit <paramref name="graph"/>.</summary>
    public static void Validate(PruningPlan plan, NetworkGraph graph, string source)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(graph);
        var declaration = graph.Declaration ?? throw new ArgumentException($"The graph of '{graph.Name}' was not built from a declaration, so a plan cannot be checked against it.", nameof(graph));
        if (!graph.Overrides.IsEmpty)
        {
            throw new PlanException(source, [new PlanError(string.Empty, Allocator.PrunedBaseMessage("The network", graph))]);
        }

        var errors = PlanValidator.Validate(plan, declaration);
        if (errors.Count > 0)
        {
            throw new PlanException(source, errors.ToArray());
        }
    }

    /// <summary>Parses plan JSON; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="PlanException">The text is not a well-formed plan.</exception>
    public static PruningPlan Parse(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new PlanException(source, new[] { new PlanError(string.Empty, $"not valid JSON (line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1}): {e.Message}") });
        }

        using (document)
        {
            var reader = new Reader();
            var plan = reader.ReadPlan(document.RootElement);
            if (reader.Errors.Count > 0 || plan is null)
            {
                throw new PlanException(source, reader.Errors);
            }

            return plan;
        }
    }

    /// <summary>Structural reading that collects every problem with its JSON path instead of stopping at the first.</summary>
    private sealed class Reader
    {
        public List<PlanError> Errors { get; } = new();

        public PruningPlan? ReadPlan(JsonElement root)
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                Errors.Add(new PlanError(string.Empty, $"expected a JSON object, found {Describe(root)}."));
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
            if (root.TryGetProperty("seed", out var seedElement))
            {
                if (seedElement.ValueKind == JsonValueKind.Number && seedElement.TryGetUInt64(out var s))
                {
                    seed = s;
                }
                else
                {
                    Errors.Add(new PlanError("seed", $"expected a non-negative integer, found {Describe(seedElement)}."));
                }
            }
            var groups = new List<PlanGroup>();
            if (Array(root, "groups", required: true) is { } groupArray)
            {
                var i = 0;
                foreach (var g in groupArray.EnumerateArray())
                {
                    var path = $"groups[{i++}]";
                    if (g.ValueKind != JsonValueKind.Object)
                    {
                        Errors.Add(new PlanError(path, $"expected an object {{ \"name\", \"channels\", \"kept\" }}, found {Describe(g)}."));
                        continue;
                    }

                    Known(g, path, "name", "channels", "kept");
                    var name = String(g, "name", required: true, path);
                    var channels = Integer(g, "channels", required: true, path);
                    var kept = new List<int>();
                    if (Array(g, "kept", required: true, path) is { } keptArray)
                    {
                        var k = 0;
                        foreach (var v in keptArray.EnumerateArray())
                        {
                            if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var index))
                            {
                                kept.Add(index);
                            }
                            else
                            {
                                Errors.Add(new PlanError($"{path}.kept[{k}]", $"expected a channel index (an integer), found {Describe(v)}."));
                            }

                            k++;
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
            if (root.TryGetProperty("summary", out var sum) && sum.ValueKind == JsonValueKind.Object)
            {
                summary = new PlanSummary(Long(sum, "baseMacs"), Long(sum, "macs"), Long(sum, "baseParameters"), Long(sum, "parameters"));
            }

            return new PruningPlan(version, network, criterion, seed, new EquatableArray<PlanGroup>(groups.ToArray()), new EquatableArray<string>(removed.ToArray()), summary)
            {
                RemovedLayers = new EquatableArray<string>(removedLayers.ToArray()),
            };
        }

        /// <summary>The strings of the optional array <paramref name="property"/>; each other value is an error naming <paramref name="what"/> it should be.</summary>
        private List<string> Names(JsonElement root, string property, string what)
        {
            var names = new List<string>();
            if (Array(root, property, required: false) is { } array)
            {
                var i = 0;
                foreach (var b in array.EnumerateArray())
                {
                    if (b.ValueKind == JsonValueKind.String)
                    {
                        names.Add(b.GetString()!);
                    }
                    else
                    {
                        Errors.Add(new PlanError($"{property}[{i}]", $"expected {what} (a string), found {Describe(b)}."));
                    }

                    i++;
                }
            }

            return names;
        }

        private static long Long(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.TryGetInt64(out var x) ? x : 0;

        private static string Describe(JsonElement e) => e.ValueKind switch
        {
            JsonValueKind.String => $"the string \"{e.GetString()}\"",
            JsonValueKind.Number => $"the number {e.GetRawText()}",
            JsonValueKind.Array => "an array",
            JsonValueKind.Object => "an object",
            JsonValueKind.True or JsonValueKind.False => $"{e.GetRawText()}",
            _ => "null",
        };

        private static string Join(string path, string name) => path.Length == 0 ? name : path + "." + name;

        private void Known(JsonElement obj, string path, params string[] names)
        {
            foreach (var p in obj.EnumerateObject())
            {
                if (System.Array.IndexOf(names, p.Name) < 0)
                {
                    Errors.Add(new PlanError(Join(path, p.Name), $"unknown property '{p.Name}'; the properties here are {string.Join(", ", names)}."));
                }
            }
        }

        private bool Get(JsonElement obj, string name, bool required, string path, out JsonElement value)
        {
            if (obj.TryGetProperty(name, out value))
            {
                return true;
            }

            if (required)
            {
                Errors.Add(new PlanError(Join(path, name), $"the required property '{name}' is missing."));
            }

            return false;
        }

        private string? String(JsonElement obj, string name, bool required, string path = "")
        {
            if (!Get(obj, name, required, path, out var v))
            {
                return null;
            }

            if (v.ValueKind != JsonValueKind.String)
            {
                Errors.Add(new PlanError(Join(path, name), $"expected a string, found {Describe(v)}."));
                return null;
            }

            return v.GetString();
        }

        private int? Integer(JsonElement obj, string name, bool required, string path = "")
        {
            if (!Get(obj, name, required, path, out var v))
            {
                return null;
            }

            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var x))
            {
                Errors.Add(new PlanError(Join(path, name), $"expected an integer, found {Describe(v)}."));
                return null;
            }

            return x;
        }

        private JsonElement? Array(JsonElement obj, string name, bool required, string path = "")
        {
            if (!Get(obj, name, required, path, out var v))
            {
                return null;
            }

            if (v.ValueKind != JsonValueKind.Array)
            {
                Errors.Add(new PlanError(Join(path, name), $"expected an array, found {Describe(v)}."));
                return null;
            }

            return v;
        }
    }
}
