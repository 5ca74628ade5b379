using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;

namespace PruneGen.Data;

/// <summary>Images read from an IDX file: <see cref="Count"/> × <see cref="Rows"/> × <see cref="Columns"/> unsigned bytes.</summary>
public sealed class IdxImages
{
    internal IdxImages(string source, int count, int rows, int columns, byte[] pixels)
    {
        Source = source;
        Count = count;
        Rows = rows;
        Columns = columns;
        Pixels = pixels;
    }

    /// <summary>The file (or resource) the images came from.</summary>
    public string Source { get; }

    /// <summary>Number of images.</summary>
    public int Count { get; }

    /// <summary>Image height.</summary>
    public int Rows { get; }

    /// <summary>Image width.</summary>
    public int Columns { get; }

    /// <summary>The pixels, image after image, row-major (0 = background, 255 = full intensity).</summary>
    public byte[] Pixels { get; }
}

/// <summary>
/// Reads IDX files (the MNIST / Fashion-MNIST format), raw or gzip-compressed (detected by the gzip magic
/// bytes 1f 8b, not by the file name). Only unsigned-byte data is supported: magic 0x00000803 for images
/// (count × rows × columns) and 0x00000801 for labels. Every problem is an <see cref="InvalidDataException"/> whose
/// message names the file and what is wrong ("IDX file 'path': …").
/// </summary>
/// <remarks>
/// Layout: a 4-byte big-endian magic number (two zero bytes, the data type 0x08 = unsigned byte, the number
/// of dimensions), one big-endian int32 per dimension, then exactly the product of the dimensions in bytes.
/// A payload that is shorter or longer than that is an error, and so is a gzip stream whose trailer does not
/// match the decompressed length (a file cut short inside the trailer).
/// </remarks>
public static class IdxReader
{
    /// <summary>Magic number of an unsigned-byte IDX file with 3 dimensions (images).</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>Magic number of an unsigned-byte IDX file with 1 dimension (labels).</summary>
    public const int LabelsMagic = 0x00000801;

    /// <summary>Reads an images file (magic 0x00000803).</summary>
    /// <param name="path">Raw or gzip-compressed IDX file.</param>
    /// <exception cref="InvalidDataException">The file is malformed; the message says how.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static IdxImages ReadImages(string path)
    {
        using var stream = OpenFile(path);
        return ReadImages(stream, path);
    }

    /// <summary>Reads an images IDX stream (raw or gzip) named <paramref name="sourceName"/> in messages.</summary>
    public static IdxImages ReadImages(Stream stream, string sourceName)
    {
        var (dims, payload) = Read(stream, sourceName, ImagesMagic, "images");
        return new IdxImages(sourceName, dims[0], dims[1], dims[2], payload);
    }

    /// <summary>Reads a labels file (magic 0x00000801).</summary>
    /// <param name="path">Raw or gzip-compressed IDX file.</param>
    /// <exception cref="InvalidDataException">The file is malformed; the message says how.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static byte[] ReadLabels(string path)
    {
        using var stream = OpenFile(path);
        return ReadLabels(stream, path);
    }

    /// <summary>Reads a labels IDX stream (raw or gzip) named <paramref name="sourceName"/> in messages.</summary>
    public static byte[] ReadLabels(Stream stream, string sourceName) =>
        Read(stream, sourceName, LabelsMagic, "labels").Payload;

    private static FileStream OpenFile(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);

    private static (int[] Dims, byte[] Payload) Read(Stream stream, string source, int expectedMagic, string what)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(source);
        if (!stream.CanSeek)
        {
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            stream = copy;
        }

        var start = stream.Position;
        var length = stream.Length - start;
        Span<byte> probe = stackalloc byte[2];
        var probed = stream.ReadAtLeast(probe, probe.Length, throwOnEndOfStream: false);
        stream.Position = start;
        var isGzip = probed == 2 && probe[0] == 0x1f && probe[1] == 0x8b;
        if (!isGzip)
        {
            return ReadIdx(stream, source, expectedMagic, what, gzip: false);
        }

        // The gzip trailer ends with ISIZE, the decompressed length modulo 2^32 (RFC 1952). GZipStream stops
        // silently at the end of a truncated file, so the trailer is checked by hand afterwards.
        if (length < 18)
        {
            throw Error(source, $"truncated gzip: the file is {length} bytes, shorter than the smallest gzip stream (18 bytes).");
        }

        Span<byte> trailer = stackalloc byte[4];
        stream.Position = start + length - 4;
        stream.ReadAtLeast(trailer, trailer.Length, throwOnEndOfStream: false);
        var expectedSize = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        stream.Position = start;

        using var gzip = new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true);
        var counting = new CountingStream(gzip, source);
        var result = ReadIdx(counting, source, expectedMagic, what, gzip: true);
        if ((uint)counting.BytesRead != expectedSize)
        {
            throw Error(source, $"truncated or corrupt gzip: {counting.BytesRead} bytes were decompressed but the gzip trailer records {expectedSize}; the file was probably cut short (re-download or reinstall it).");
        }

        return result;
    }

    private static (int[] Dims, byte[] Payload) ReadIdx(Stream stream, string source, int expectedMagic, string what, bool gzip)
    {
        var expectedDims = expectedMagic & 0xff;
        var cut = gzip ? "truncated gzip: the decompressed data" : "truncated file: it";
        Span<byte> header = stackalloc byte[4 + (4 * 3)];
        var magicBytes = header[..4];
        var got = stream.ReadAtLeast(magicBytes, magicBytes.Length, throwOnEndOfStream: false);
        if (got < 4)
        {
            throw Error(source, $"{cut} has only {got} bytes, too short for the 4-byte IDX magic number (expected 0x{expectedMagic:X8}, {what}).");
        }

        var magic = BinaryPrimitives.ReadInt32BigEndian(magicBytes);
        if (magic != expectedMagic)
        {
            throw Error(source, DescribeWrongMagic(magic, expectedMagic, what, gzip));
        }

        var dimBytes = header.Slice(4, 4 * expectedDims);
        got = stream.ReadAtLeast(dimBytes, dimBytes.Length, throwOnEndOfStream: false);
        if (got < dimBytes.Length)
        {
            throw Error(source, $"{cut} ends inside the header: {4 + got} bytes, but the {expectedDims} dimension sizes need {4 + dimBytes.Length}.");
        }

        var dims = new int[expectedDims];
        long total = 1;
        for (var i = 0; i < expectedDims; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(dimBytes.Slice(4 * i, 4));
            if (dims[i] < 0 || (i > 0 && dims[i] == 0))
            {
                throw Error(source, $"dimension {i} is {dims[i]}; sizes must be positive (the item count may be 0).");
            }

            total *= dims[i];
            if (total > Array.MaxLength)
            {
                throw Error(source, $"dimensions [{string.Join(", ", dims[..(i + 1)])}] give more than {Array.MaxLength} bytes, more than this reader supports.");
            }
        }

        var headerLength = 4 + dimBytes.Length;
        var payload = GC.AllocateUninitializedArray<byte>((int)total);
        got = stream.ReadAtLeast(payload, payload.Length, throwOnEndOfStream: false);
        if (got < payload.Length)
        {
            var items = what == "images" ? $"{dims[0]} images of {dims[1]}×{dims[2]}" : $"{dims[0]} labels";
            throw Error(source, $"{cut} ends after {headerLength + got} bytes, but the header announces {items}: {headerLength} + {total} = {headerLength + total} bytes.");
        }

        Span<byte> extra = stackalloc byte[1];
        if (stream.ReadAtLeast(extra, extra.Length, throwOnEndOfStream: false) != 0)
        {
            long more = 1;
            Span<byte> sink = stackalloc byte[4096];
            int n;
            while ((n = stream.Read(sink)) > 0)
            {
                more += n;
            }

            throw Error(source, $"{more} bytes of unexpected data follow the {total}-byte payload announced by the header (dimensions [{string.Join(", ", dims)}]).");
        }

        return (dims, payload);
    }

    private static string DescribeWrongMagic(int magic, int expectedMagic, string what, bool gzip)
    {
        var expected = $"expected 0x{expectedMagic:X8} ({what}: unsigned bytes, {expectedMagic & 0xff} dimension{((expectedMagic & 0xff) == 1 ? "" : "s")})";
        var found = $"wrong magic number 0x{magic:X8}, {expected}";
        if ((magic >> 16) != 0)
        {
            return $"{found}; this is not an IDX file{(gzip ? " (inside the gzip stream)" : "")}.";
        }

        var type = (magic >> 8) & 0xff;
        if (type != 0x08)
        {
            var typeName = type switch
            {
                0x09 => "signed byte",
                0x0B => "int16",
                0x0C => "int32",
                0x0D => "float32",
                0x0E => "float64",
                _ => "unknown",
            };
            return $"{found}; data type 0x{type:X2} ({typeName}) is not supported, only 0x08 (unsigned byte).";
        }

        var dims = magic & 0xff;
        var hint = dims switch
        {
            1 => " (this looks like a labels file)",
            3 => " (this looks like an images file)",
            _ => "",
        };
        return $"{found}; it has {dims} dimension{(dims == 1 ? "" : "s")}{hint}.";
    }

    /// <summary>The exception for a malformed IDX file: "IDX file '<paramref name="source"/>': <paramref name="problem"/>".</summary>
    internal static InvalidDataException Error(string source, string problem, Exception? inner = null) =>
        new($"IDX file '{source}': {problem}", inner);

    /// <summary>
    /// Counts the bytes read through it (the decompressed length, to check against the gzip trailer) and
    /// names the file in decompression errors.
    /// </summary>
    private sealed class CountingStream(Stream inner, string source) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => BytesRead;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n;
            try
            {
                n = inner.Read(buffer);
            }
            catch (InvalidDataException e)
            {
                throw Error(source, $"corrupt gzip data: decompression failed (.NET reports: {e.Message}); re-download or reinstall the file.", e);
            }

            BytesRead += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
