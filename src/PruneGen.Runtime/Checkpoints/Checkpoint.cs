using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.Json;

namespace PruneGen.Checkpoints;

/// <summary>What <see cref="Checkpoint.Load(INetwork, string)"/> (or another <c>Load</c>) read besides the network's parameters.</summary>
public sealed class CheckpointContents
{
    internal CheckpointContents(string path, IReadOnlyDictionary<string, string> metadata, IReadOnlyList<SafetensorsTensor> extraTensors)
    {
        Path = path;
        Metadata = metadata;
        ExtraTensors = extraTensors;
    }

    /// <summary>The checkpoint file.</summary>
    public string Path { get; }

    /// <summary>The file's metadata, including PruneGen's own keys (<see cref="Checkpoint.NetworkKey"/>, …).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The extra tensors saved with the network (e.g. optimizer state), in file order.</summary>
    public IReadOnlyList<SafetensorsTensor> ExtraTensors { get; }

    /// <summary>The extra tensor called <paramref name="name"/>, or null.</summary>
    public SafetensorsTensor? FindExtra(string name) => ExtraTensors.FirstOrDefault(t => t.Name == name);
}

/// <summary>
/// Saves and loads a network's parameters (and running statistics) as a safetensors file, one F32 tensor
/// per parameter under its PyTorch-style name (<c>conv1.weight</c>, <c>bn1.running_mean</c>, …), so that
/// PyTorch, Hugging Face tools and any safetensors reader can open it.
/// </summary>
/// <remarks>
/// Extra tensors such as optimizer state (e.g. <c>optimizer.conv1.weight.momentum</c>) can be stored in the
/// same file; their names are listed in the metadata key <see cref="ExtraTensorsKey"/> so that loading can
/// tell them from tensors that do not belong to the network.
/// </remarks>
public static class Checkpoint
{
    /// <summary>Metadata key: the name of the network that was saved.</summary>
    public const string NetworkKey = "prunegen.network";

    /// <summary>Metadata key: a JSON array (as a string) of the extra tensors' names.</summary>
    public const string ExtraTensorsKey = "prunegen.extra_tensors";

    /// <summary>Metadata key written by PyTorch's safetensors helpers; PruneGen writes <c>"pt"</c> so they accept the file.</summary>
    public const string FormatKey = "format";

    /// <summary>
    /// Writes every parameter of <paramref name="network"/> (and <paramref name="extraTensors"/>) to
    /// <paramref name="path"/>, atomically: a failure leaves a previous file at that path intact.
    /// </summary>
    /// <param name="network">The network whose parameters are saved.</param>
    /// <param name="path">The checkpoint file, conventionally <c>*.safetensors</c>.</param>
    /// <param name="metadata">Free-form strings to store (epoch, accuracy, pruning plan…); keys starting with <c>prunegen.</c> are reserved.</param>
    /// <param name="extraTensors">Tensors to store beside the parameters, under names the network does not use.</param>
    /// <exception cref="ArgumentException">A metadata key is reserved, or an extra tensor's name is a parameter's or repeated.</exception>
    public static void Save(INetwork network, string path, IReadOnlyDictionary<string, string>? metadata = null, IEnumerable<SafetensorsTensor>? extraTensors = null) =>
        ToSafetensors(network, metadata, extraTensors).Write(path);

    /// <summary>Builds the safetensors file <see cref="Save"/> writes, over the network's arrays (no copy).</summary>
    public static SafetensorsFile ToSafetensors(INetwork network, IReadOnlyDictionary<string, string>? metadata = null, IEnumerable<SafetensorsTensor>? extraTensors = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        var file = new SafetensorsFile();
        file.Metadata[FormatKey] = "pt";
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                if (key.StartsWith("prunegen.", StringComparison.Ordinal))
                {
                    throw new ArgumentException($"Metadata key '{key}' is reserved: keys starting with 'prunegen.' are written by PruneGen.", nameof(metadata));
                }

                file.Metadata[key] = value;
            }
        }

        file.Metadata[NetworkKey] = network.Graph.Name;
        foreach (var parameter in network.Parameters)
        {
            file.Add(parameter.Name, [.. parameter.Shape], parameter.Data);
        }

        var extras = new List<string>();
        foreach (var tensor in extraTensors ?? [])
        {
            if (network.Parameters.TryGet(tensor.Name, out _))
            {
                throw new ArgumentException($"Extra tensor '{tensor.Name}' has the name of a parameter of {network.Graph.Name}; give extra state its own prefix, e.g. 'optimizer.{tensor.Name}.momentum'.", nameof(extraTensors));
            }

            file.Add(tensor);
            extras.Add(tensor.Name);
        }

        if (extras.Count > 0)
        {
            file.Metadata[ExtraTensorsKey] = JsonSerializer.Serialize(extras, CheckpointJsonContext.Default.ListString);
        }

        return file;
    }

    /// <summary>
    /// Reads <paramref name="path"/> into the parameters of <paramref name="network"/>. The file is validated
    /// strictly first (see <see cref="SafetensorsFile"/>), then against the network: every parameter must be
    /// present with its exact shape, and every tensor of the file must be a parameter or a listed extra
    /// tensor. Nothing is copied into the network unless everything matches.
    /// </summary>
    /// <returns>The metadata and the extra tensors.</returns>
    /// <exception cref="CheckpointMismatchException">The file does not fit the network; names the first mismatch (tensor, expected and found shapes, file).</exception>
    /// <exception cref="InvalidDataException">The file is malformed.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static CheckpointContents Load(INetwork network, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        return Load(network, SafetensorsFile.Read(path), path);
    }

    /// <summary>
    /// Reads safetensors data from <paramref name="stream"/> (from its position to its end) into the parameters of
    /// <paramref name="network"/>, with the same checks as <see cref="Load(INetwork, string)"/>.
    /// </summary>
    /// <param name="network">The network whose parameters are filled.</param>
    /// <param name="stream">The checkpoint's bytes.</param>
    /// <param name="sourceName">Names the data in error messages and in <see cref="CheckpointContents.Path"/>.</param>
    /// <returns>The metadata and the extra tensors.</returns>
    /// <exception cref="CheckpointMismatchException">The data does not fit the network.</exception>
    /// <exception cref="InvalidDataException">The data is malformed.</exception>
    public static CheckpointContents Load(INetwork network, Stream stream, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(network);
        return Load(network, SafetensorsFile.Read(stream, sourceName), sourceName);
    }

    /// <summary>
    /// Loads the weights embedded in <paramref name="assembly"/> as the manifest resource <paramref name="resourceName"/>
    /// (what the generated <c>LoadEmbedded()</c> of an <see cref="EmbeddedWeightsAttribute"/> network calls). Reads the
    /// resource stream only (no reflection over members): safe to trim and to compile with NativeAOT.
    /// </summary>
    /// <param name="network">The network whose parameters are filled.</param>
    /// <param name="assembly">The assembly that embeds the weights (the network's own).</param>
    /// <param name="resourceName">The manifest resource's name (the <c>LogicalName</c> of its <c>EmbeddedResource</c> item).</param>
    /// <returns>The metadata and the extra tensors.</returns>
    /// <exception cref="FileNotFoundException">The assembly has no such resource; the message lists the resources it has and how to embed one.</exception>
    /// <exception cref="CheckpointMismatchException">The embedded weights do not fit the network.</exception>
    /// <exception cref="InvalidDataException">The embedded weights are malformed.</exception>
    public static CheckpointContents LoadResource(INetwork network, Assembly assembly, string resourceName)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(assembly);
        ArgumentNullException.ThrowIfNull(resourceName);
        var assemblyName = assembly.GetName().Name;
        var source = $"embedded resource '{resourceName}' of assembly {assemblyName}";
        using var stream = assembly.GetManifestResourceStream(resourceName);
        if (stream is null)
        {
            var present = assembly.GetManifestResourceNames();
            throw new FileNotFoundException(
                $"The weights of {network.Graph.Name} are not embedded: assembly {assemblyName} has no manifest resource '{resourceName}' " +
                $"(it has {(present.Length == 0 ? "none" : string.Join(", ", present.Select(n => "'" + n + "'")))}). " +
                $"Embed the safetensors file under that name in the project that declares the network: " +
                $"<EmbeddedResource Include=\"path/to/weights.safetensors\" LogicalName=\"{resourceName}\" />.",
                resourceName);
        }

        return Load(network, SafetensorsFile.Read(stream, source), source);
    }

    private static CheckpointContents Load(INetwork network, SafetensorsFile file, string path)
    {
        var extraNames = ReadExtraNames(file, path);
        var mismatches = new List<(string Name, string Problem, int[]? Expected, int[]? Found)>();
        foreach (var parameter in network.Parameters)
        {
            int[] expected = [.. parameter.Shape];
            if (!file.TryGet(parameter.Name, out var tensor))
            {
                mismatches.Add((parameter.Name, $"the file has no tensor '{parameter.Name}' (the network expects shape {SafetensorsTensor.FormatShape(expected)})", expected, null));
            }
            else if (!tensor.Shape.SequenceEqual(expected))
            {
                mismatches.Add((parameter.Name, $"tensor '{parameter.Name}' has shape {SafetensorsTensor.FormatShape(tensor.Shape)} in the file but the network expects {SafetensorsTensor.FormatShape(expected)}", expected, [.. tensor.Shape]));
            }
        }

        var extras = new List<SafetensorsTensor>();
        foreach (var tensor in file.Tensors)
        {
            if (network.Parameters.TryGet(tensor.Name, out _))
            {
                continue;
            }

            if (extraNames.Contains(tensor.Name))
            {
                extras.Add(tensor);
            }
            else
            {
                mismatches.Add((tensor.Name, $"the file has tensor '{tensor.Name}' {SafetensorsTensor.FormatShape(tensor.Shape)}, which is not a parameter of the network", null, [.. tensor.Shape]));
            }
        }

        if (mismatches.Count > 0)
        {
            var first = mismatches[0];
            var savedFrom = file.Metadata.TryGetValue(NetworkKey, out var saved) ? $"saved from '{saved}'" : "no network recorded";
            var more = mismatches.Count == 1 ? "" : $" ({mismatches.Count} mismatches in all; next: {string.Join("; ", mismatches.Skip(1).Take(3).Select(m => m.Problem))}{(mismatches.Count > 4 ? "; …" : "")})";
            throw new CheckpointMismatchException(path, $"{first.Problem}. Network: '{network.Graph.Name}'; checkpoint: {savedFrom}.{more}", first.Name, first.Expected, first.Found, mismatches.Count);
        }

        foreach (var parameter in network.Parameters)
        {
            file[parameter.Name].Data.AsSpan().CopyTo(parameter.Data);
        }

        return new CheckpointContents(path, new Dictionary<string, string>(file.Metadata, StringComparer.Ordinal), extras);
    }

    private static HashSet<string> ReadExtraNames(SafetensorsFile file, string path)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (!file.Metadata.TryGetValue(ExtraTensorsKey, out var json))
        {
            return names;
        }

        try
        {
            foreach (var name in JsonSerializer.Deserialize(json, CheckpointJsonContext.Default.ListString) ?? [])
            {
                names.Add(name);
            }
        }
        catch (JsonException e)
        {
            throw SafetensorsFile.Error(path, $"metadata '{ExtraTensorsKey}' must be a JSON array of tensor names; it is '{json}' ({e.Message}).", e);
        }

        return names;
    }
}
