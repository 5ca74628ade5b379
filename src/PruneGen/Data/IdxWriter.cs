using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;

namespace PruneGen.Data;

/// <summary>Writes unsigned-byte IDX files (used to build the embedded subset and test inputs).</summary>
internal static class IdxWriter
{
    /// <summary>The IDX bytes of <paramref name="count"/> images of <paramref name="rows"/> × <paramref name="columns"/>.</summary>
    public static byte[] Images(ReadOnlySpan<byte> pixels, int count, int rows, int columns) =>
        Build(IdxReader.ImagesMagic, [count, rows, columns], pixels);

    /// <summary>The IDX bytes of a labels file.</summary>
    public static byte[] Labels(ReadOnlySpan<byte> labels) =>
        Build(IdxReader.LabelsMagic, [labels.Length], labels);

    /// <summary>An IDX file with any magic number and dimensions (for malformed test inputs).</summary>
    public static byte[] Build(int magic, ReadOnlySpan<int> dims, ReadOnlySpan<byte> payload)
    {
        var bytes = new byte[4 + (4 * dims.Length) + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (var i = 0; i < dims.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + (4 * i)), dims[i]);
        }

        payload.CopyTo(bytes.AsSpan(4 + (4 * dims.Length)));
        return bytes;
    }

    /// <summary>Gzip-compresses <paramref name="data"/> at the smallest size.</summary>
    public static byte[] Gzip(ReadOnlySpan<byte> data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }
}
