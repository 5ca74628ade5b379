using System;
using System.Collections.Generic;

namespace PruneGen.Checkpoints;

/// <summary>A named F32 tensor of a safetensors file: its shape (row-major, PyTorch order) and values.</summary>
public sealed class SafetensorsTensor
{
    private readonly int[] _shape;

    /// <summary>Creates a tensor over <paramref name="data"/> (not copied: writing a file reads it as it is then).</summary>
    /// <param name="name">The tensor's name, e.g. <c>conv1.weight</c> or <c>optimizer.conv1.weight.momentum</c>.</param>
    /// <param name="shape">Dimensions; the empty shape is a scalar (1 element).</param>
    /// <param name="data">Exactly the product of <paramref name="shape"/> values.</param>
    /// <exception cref="ArgumentException">The name is empty or reserved, a dimension is negative, or the data length disagrees with the shape.</exception>
    public SafetensorsTensor(string name, IReadOnlyList<int> shape, float[] data)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        if (name == SafetensorsFile.MetadataKey)
        {
            throw new ArgumentException($"'{SafetensorsFile.MetadataKey}' is reserved for metadata and cannot name a tensor.", nameof(name));
        }

        _shape = [.. shape];
        long count = 1;
        foreach (var d in _shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"Tensor '{name}': dimension {d} in shape {FormatShape(_shape)} is negative.", nameof(shape));
            }

            count *= d;
        }

        if (count != data.Length)
        {
            throw new ArgumentException($"Tensor '{name}': shape {FormatShape(_shape)} has {count} elements but {data.Length} values were given.", nameof(data));
        }

        Name = name;
        Data = data;
    }

    /// <summary>The tensor's name.</summary>
    public string Name { get; }

    /// <summary>The dimensions.</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>The values, row-major.</summary>
    public float[] Data { get; }

    /// <summary>Bytes in the file: 4 per value.</summary>
    public long ByteLength => (long)Data.Length * sizeof(float);

    /// <inheritdoc />
    public override string ToString() => $"{Name} {FormatShape(_shape)}";

    /// <summary>Formats a shape as <c>[6, 1, 5, 5]</c>.</summary>
    public static string FormatShape(IEnumerable<int> shape) => "[" + string.Join(", ", shape) + "]";

    internal int[] ShapeArray => _shape;
}
