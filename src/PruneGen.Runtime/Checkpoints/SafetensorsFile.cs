using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

using PruneGen.IO;

namespace PruneGen.Checkpoints;

/// <summary>
/// A safetensors file of named F32 tensors plus string metadata, read and written by PruneGen.
/// </summary>
/// <remarks>
/// <para>
/// Layout (Hugging Face safetensors): an unsigned little-endian 64-bit header length N; N bytes of UTF-8 JSON
/// mapping each tensor name to <c>{"dtype":"F32","shape":[…],"data_offsets":[begin,end]}</c>, plus an optional
/// <c>"__metadata__"</c> object of string → string; then the data buffer, with offsets relative to its start.
/// Values are little-endian and row-major.
/// </para>
/// <para>
/// Writing: metadata first (keys sorted), then the tensors in the order they were added, at ascending,
/// contiguous offsets; the header is padded with spaces so that the data buffer starts at a multiple of 8 bytes.
/// <see cref="Write(string)"/> is atomic: it writes a temporary file in the same directory, flushes it to disk
/// and renames it over the target, so a failure leaves any previous file untouched.
/// </para>
/// <para>
/// Reading is strict: the header length must fit in the file (and 100 MiB), the header must start with
/// <c>{</c> and be well-formed JSON without duplicate keys, every tensor must be F32 with non-negative integer
/// dimensions, its <c>data_offsets</c> must span exactly shape × 4 bytes inside the buffer, and the tensors
/// must cover the buffer exactly — no overlaps, no holes, no trailing bytes. Every violation is a
/// <see cref="InvalidDataException"/> naming the file, the tensor and the problem.
/// </para>
/// </remarks>
public sealed class SafetensorsFile
{
    /// <summary>The reserved header key of the metadata object.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>The largest header accepted (the reference implementation's limit): 100 MiB.</summary>
    public const long MaxHeaderLength = 100L << 20;

    /// <summary>The dtype PruneGen reads and writes.</summary>
    public const string F32 = "F32";

    private static readonly string[] KnownDtypes =
        ["BOOL", "U8", "I8", "U16", "I16", "F16", "BF16", "U32", "I32", "F32", "U64", "I64", "F64", "C64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4"];

    private readonly List<SafetensorsTensor> _tensors = [];
    private readonly Dictionary<string, SafetensorsTensor> _byName = new(StringComparer.Ordinal);

    /// <summary>Creates an empty file to fill with <see cref="Add(SafetensorsTensor)"/> and write.</summary>
    public SafetensorsFile()
    {
    }

    /// <summary>Free-form string metadata (the header's <c>__metadata__</c>).</summary>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The tensors: in insertion order for a new file, in data-offset order for a file read.</summary>
    public IReadOnlyList<SafetensorsTensor> Tensors => _tensors;

    /// <summary>Where the file was read from; null for a file built in memory.</summary>
    public string? SourcePath { get; private set; }

    /// <summary>The tensor called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    public SafetensorsTensor this[string name] => _byName.TryGetValue(name, out var t)
        ? t
        : throw new KeyNotFoundException($"The safetensors file{(SourcePath is null ? "" : $" '{SourcePath}'")} has no tensor '{name}'.");

    /// <summary>Adds a tensor (its data is not copied).</summary>
    /// <exception cref="ArgumentException">A tensor with that name is already there.</exception>
    public SafetensorsTensor Add(SafetensorsTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!_byName.TryAdd(tensor.Name, tensor))
        {
            throw new ArgumentException($"A tensor named '{tensor.Name}' is already in the file; names must be unique.", nameof(tensor));
        }

        _tensors.Add(tensor);
        return tensor;
    }

    /// <summary>Adds a tensor named <paramref name="name"/> over <paramref name="data"/> (not copied).</summary>
    public SafetensorsTensor Add(string name, IReadOnlyList<int> shape, float[] data) => Add(new SafetensorsTensor(name, shape, data));

    /// <summary>Looks a tensor up by name.</summary>
    public bool TryGet(string name, [MaybeNullWhen(false)] out SafetensorsTensor tensor) => _byName.TryGetValue(name, out tensor);

    /// <summary>Whether a tensor has that name.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>Writes the file atomically (temporary file in the same directory, flushed to disk, renamed over <paramref name="path"/>).</summary>
    public void Write(string path) => Write(path, null);

    /// <summary>Writes the file to <paramref name="stream"/> from its current position.</summary>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var header = BuildHeader();
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        foreach (var tensor in _tensors)
        {
            WriteFloats(stream, tensor.Data);
        }
    }

    /// <summary>The whole file as bytes.</summary>
    public byte[] ToArray()
    {
        using var stream = new MemoryStream();
        WriteTo(stream);
        return stream.ToArray();
    }

    /// <summary>Reads and validates a safetensors file of F32 tensors.</summary>
    /// <exception cref="InvalidDataException">The file is malformed or holds a dtype other than F32; the message says where and how.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static SafetensorsFile Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);
        return Read(stream, path);
    }

    /// <summary>Reads and validates safetensors data from <paramref name="stream"/> (from its position to its end).</summary>
    /// <param name="stream">The file's bytes.</param>
    /// <param name="sourceName">Named in error messages.</param>
    /// <exception cref="InvalidDataException">The data is malformed; the message says where and how.</exception>
    public static SafetensorsFile Read(Stream stream, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sourceName);
        if (!stream.CanSeek)
        {
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            stream = copy;
        }

        var fileLength = stream.Length - stream.Position;
        Span<byte> lengthBytes = stackalloc byte[8];
        if (fileLength < 8 || stream.ReadAtLeast(lengthBytes, lengthBytes.Length, throwOnEndOfStream: false) < 8)
        {
            throw Error(sourceName, $"the file is {fileLength} bytes, too short for the 8-byte header length that starts a safetensors file.");
        }

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > (ulong)(fileLength - 8))
        {
            throw Error(sourceName, $"the header length {headerLength} (first 8 bytes, little-endian) is larger than the rest of the file ({fileLength - 8} of {fileLength} bytes); the file is truncated or not a safetensors file.");
        }

        if (headerLength > MaxHeaderLength)
        {
            throw Error(sourceName, $"the header length {headerLength} exceeds the {MaxHeaderLength}-byte limit; this is not a safetensors file.");
        }

        if (headerLength < 2)
        {
            throw Error(sourceName, $"the header length is {headerLength}; a header is a JSON object, at least '{{}}'.");
        }

        var header = new byte[headerLength];
        stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        var bufferLength = fileLength - 8 - (long)headerLength;
        var entries = ParseHeader(header, sourceName, bufferLength, out var metadata);
        CheckCoverage(entries, sourceName, bufferLength);

        var file = new SafetensorsFile { SourcePath = sourceName };
        foreach (var (key, value) in metadata)
        {
            file.Metadata[key] = value;
        }

        var bufferStart = stream.Position;
        foreach (var entry in entries)
        {
            stream.Position = bufferStart + entry.Begin;
            var data = GC.AllocateUninitializedArray<float>(entry.Count);
            var bytes = MemoryMarshal.AsBytes(data.AsSpan());
            if (stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false) < bytes.Length)
            {
                throw Error(sourceName, $"the file ended while reading tensor '{entry.Name}'.");
            }

            if (!BitConverter.IsLittleEndian)
            {
                var ints = MemoryMarshal.Cast<float, int>(data.AsSpan());
                BinaryPrimitives.ReverseEndianness(ints, ints);
            }

            file.Add(new SafetensorsTensor(entry.Name, entry.Shape, data));
        }

        return file;
    }

    /// <summary>Writes atomically; <paramref name="wrap"/> (tests only) wraps the temporary file's stream, e.g. to make it fail midway.</summary>
    internal void Write(string path, Func<Stream, Stream>? wrap) => AtomicFile.Write(path, WriteTo, wrap);

    private byte[] BuildHeader()
    {
        var json = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            if (Metadata.Count > 0)
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in Metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    ArgumentNullException.ThrowIfNull(value, $"metadata '{key}'");
                    writer.WriteString(key, value);
                }

                writer.WriteEndObject();
            }

            long offset = 0;
            foreach (var tensor in _tensors)
            {
                writer.WriteStartObject(tensor.Name);
                writer.WriteString("dtype", F32);
                writer.WriteStartArray("shape");
                foreach (var d in tensor.ShapeArray)
                {
                    writer.WriteNumberValue(d);
                }

                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                offset += tensor.ByteLength;
                writer.WriteNumberValue(offset);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        // Pad with spaces so that the data buffer (after the 8-byte length and the header) is 8-byte aligned.
        var padded = (json.WrittenCount + 7) & ~7;
        var header = new byte[padded];
        json.WrittenSpan.CopyTo(header);
        header.AsSpan(json.WrittenCount).Fill((byte)' ');
        return header;
    }

    private static void WriteFloats(Stream stream, float[] data)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(data.AsSpan()));
            return;
        }

        var buffer = new byte[4096];
        for (var i = 0; i < data.Length; i += buffer.Length / 4)
        {
            var n = Math.Min(buffer.Length / 4, data.Length - i);
            for (var j = 0; j < n; j++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(4 * j), data[i + j]);
            }

            stream.Write(buffer, 0, 4 * n);
        }
    }

    private readonly record struct Entry(string Name, int[] Shape, int Count, long Begin, long End);

    private static List<Entry> ParseHeader(byte[] header, string source, long bufferLength, out List<KeyValuePair<string, string>> metadata)
    {
        if (header[0] != (byte)'{')
        {
            throw Error(source, $"the header does not start with '{{' (found byte 0x{header[0]:X2}); this is not a safetensors file.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw Error(source, $"the {header.Length}-byte header is not valid JSON: {e.Message}", e);
        }

        metadata = [];
        var entries = new List<Entry>();
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Error(source, $"the header is a JSON {document.RootElement.ValueKind}, not an object.");
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                {
                    throw Error(source, $"the header has the key '{property.Name}' twice; duplicate keys are not allowed.");
                }

                if (property.Name == MetadataKey)
                {
                    ParseMetadata(property.Value, source, metadata);
                }
                else
                {
                    entries.Add(ParseEntry(property.Name, property.Value, source, bufferLength));
                }
            }
        }

        return entries;
    }

    private static void ParseMetadata(JsonElement value, string source, List<KeyValuePair<string, string>> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Error(source, $"'{MetadataKey}' is a JSON {value.ValueKind}; it must be an object of string values.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw Error(source, $"'{MetadataKey}' entry '{item.Name}' is a JSON {item.Value.ValueKind}; metadata values must be strings.");
            }

            if (!seen.Add(item.Name))
            {
                throw Error(source, $"'{MetadataKey}' has the key '{item.Name}' twice; duplicate keys are not allowed.");
            }

            metadata.Add(new(item.Name, item.Value.GetString()!));
        }
    }

    private static Entry ParseEntry(string name, JsonElement value, string source, long bufferLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Error(source, $"tensor '{name}' is a JSON {value.ValueKind}; it must be an object with dtype, shape and data_offsets.");
        }

        JsonElement? dtype = null, shape = null, offsets = null;
        foreach (var field in value.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype" when dtype is null:
                    dtype = field.Value;
                    break;
                case "shape" when shape is null:
                    shape = field.Value;
                    break;
                case "data_offsets" when offsets is null:
                    offsets = field.Value;
                    break;
                case "dtype" or "shape" or "data_offsets":
                    throw Error(source, $"tensor '{name}' has the field '{field.Name}' twice.");
                default:
                    throw Error(source, $"tensor '{name}' has the unknown field '{field.Name}'; expected dtype, shape and data_offsets.");
            }
        }

        if (dtype is null || shape is null || offsets is null)
        {
            var missing = new[] { ("dtype", dtype), ("shape", shape), ("data_offsets", offsets) }.First(f => f.Item2 is null).Item1;
            throw Error(source, $"tensor '{name}' has no '{missing}' field.");
        }

        if (dtype.Value.ValueKind != JsonValueKind.String)
        {
            throw Error(source, $"tensor '{name}': dtype is a JSON {dtype.Value.ValueKind}, not a string.");
        }

        var dtypeName = dtype.Value.GetString()!;
        if (dtypeName != F32)
        {
            throw Error(source, KnownDtypes.Contains(dtypeName, StringComparer.Ordinal)
                ? $"tensor '{name}' has dtype {dtypeName}, which is not supported: PruneGen reads only F32 tensors (convert the checkpoint to float32)."
                : $"tensor '{name}' has the unknown dtype '{dtypeName}'; PruneGen reads only F32 tensors.");
        }

        var dims = ReadIntegers(shape.Value, source, name, "shape");
        var dimensions = new int[dims.Length];
        long count = 1;
        for (var i = 0; i < dims.Length; i++)
        {
            if (dims[i] > int.MaxValue || (count *= (long)dims[i]) > Array.MaxLength)
            {
                throw Error(source, $"tensor '{name}': shape [{string.Join(", ", dims)}] has more than {Array.MaxLength} elements, more than PruneGen can hold in one array.");
            }

            dimensions[i] = (int)dims[i];
        }

        var range = ReadIntegers(offsets.Value, source, name, "data_offsets");
        if (range.Length != 2)
        {
            throw Error(source, $"tensor '{name}': data_offsets has {range.Length} numbers; it must be [begin, end].");
        }

        var (begin, end) = (range[0], range[1]);
        var shown = $"data_offsets [{begin}, {end}]";
        if (end < begin)
        {
            throw Error(source, $"tensor '{name}': {shown} ends before it begins.");
        }

        if (end > (ulong)bufferLength)
        {
            throw Error(source, $"tensor '{name}': {shown} reach past the end of the data buffer, which is {bufferLength} bytes; the offsets point outside the file (or the file is truncated).");
        }

        if (end - begin != (ulong)count * sizeof(float))
        {
            throw Error(source, $"tensor '{name}': shape {SafetensorsTensor.FormatShape(dimensions)} of F32 needs {count} × 4 = {count * sizeof(float)} bytes but {shown} span {end - begin}.");
        }

        return new Entry(name, dimensions, (int)count, (long)begin, (long)end);
    }

    private static ulong[] ReadIntegers(JsonElement value, string source, string name, string field)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Error(source, $"tensor '{name}': {field} is a JSON {value.ValueKind}, not an array.");
        }

        var result = new ulong[value.GetArrayLength()];
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetUInt64(out result[i]))
            {
                throw Error(source, $"tensor '{name}': {field}[{i}] is {item.GetRawText()}, not a non-negative integer.");
            }

            i++;
        }

        return result;
    }

    /// <summary>Sorts <paramref name="entries"/> by offset and checks that they tile the buffer exactly.</summary>
    private static void CheckCoverage(List<Entry> entries, string source, long bufferLength)
    {
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long covered = 0;
        Entry? previous = null;
        foreach (var entry in entries)
        {
            if (entry.Begin < covered)
            {
                throw Error(source, $"tensors '{previous!.Value.Name}' (data_offsets [{previous.Value.Begin}, {previous.Value.End}]) and '{entry.Name}' ([{entry.Begin}, {entry.End}]) overlap; every byte of the data buffer must belong to one tensor.");
            }

            if (entry.Begin > covered)
            {
                throw Error(source, $"bytes [{covered}, {entry.Begin}) of the data buffer belong to no tensor (a hole before '{entry.Name}'); the buffer must be fully covered.");
            }

            covered = entry.End;
            previous = entry;
        }

        if (covered != bufferLength)
        {
            throw Error(source, $"the data buffer is {bufferLength} bytes but the tensors cover only [0, {covered}); {bufferLength - covered} trailing bytes belong to no tensor.");
        }
    }

    /// <summary>The exception for a malformed file: "safetensors file '<paramref name="source"/>': <paramref name="problem"/>".</summary>
    internal static InvalidDataException Error(string source, string problem, Exception? inner = null) =>
        new($"safetensors file '{source}': {problem}", inner);
}
