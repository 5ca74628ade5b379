using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using PruneGen.Checkpoints;
using PruneGen.Tests.Data;

namespace PruneGen.Tests.Checkpoints;

[Trait("Category", "Data")]
public sealed class SafetensorsFileTests : IDisposable
{
    private readonly DataTestSupport.TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static SafetensorsFile Sample()
    {
        var file = new SafetensorsFile();
        file.Metadata["epoch"] = "3";
        file.Add("a", [2, 3], [1, 2, 3, 4, 5, 6.5f]);
        file.Add("b", [], [-0.25f]);
        file.Add("empty", [0, 4], []);
        return file;
    }

    /// <summary>A file from its header text and data bytes, laid out as the format says (no padding).</summary>
    private static byte[] Assemble(string header, byte[] data)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + json.Length);
        return bytes;
    }

    private static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        }

        return bytes;
    }

    private static InvalidDataException ReadFails(byte[] bytes, string name = "bad.safetensors") =>
        Assert.Throws<InvalidDataException>(() => SafetensorsFile.Read(new MemoryStream(bytes), name));

    [Fact]
    public void TheWrittenLayoutIsTheStandardOne()
    {
        var bytes = Sample().ToArray();

        // 8-byte little-endian header length; the data buffer starts 8-byte aligned.
        var n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, (8 + n) % 8);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.Equal(
            """{"__metadata__":{"epoch":"3"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"F32","shape":[],"data_offsets":[24,28]},"empty":{"dtype":"F32","shape":[0,4],"data_offsets":[28,28]}}""",
            header.TrimEnd(' '));
        Assert.True(header.Length - header.TrimEnd(' ').Length < 8, "padding is fewer than 8 spaces");

        // An independent reading of the header: keys, dtypes, shapes, offsets sorted and contiguous.
        using var json = JsonDocument.Parse(header);
        var keys = json.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(["__metadata__", "a", "b", "empty"], keys);
        long expectedBegin = 0;
        foreach (var tensor in json.RootElement.EnumerateObject().Skip(1))
        {
            Assert.Equal("F32", tensor.Value.GetProperty("dtype").GetString());
            var offsets = tensor.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var elements = tensor.Value.GetProperty("shape").EnumerateArray().Aggregate(1L, (p, d) => p * d.GetInt64());
            Assert.Equal(expectedBegin, offsets[0]);
            Assert.Equal(offsets[0] + (4 * elements), offsets[1]);
            expectedBegin = offsets[1];
        }

        // The buffer is exactly the tensors, little-endian F32, row-major.
        Assert.Equal(8 + (long)n + 28, bytes.Length);
        var data = bytes.AsSpan(8 + (int)n);
        Assert.Equal(6.5f, BinaryPrimitives.ReadSingleLittleEndian(data[20..]));
        Assert.Equal(-0.25f, BinaryPrimitives.ReadSingleLittleEndian(data[24..]));
    }

    [Fact]
    public void RoundTripThroughAFile()
    {
        var path = _dir.File("sample.safetensors");
        Sample().Write(path);
        var read = SafetensorsFile.Read(path);
        Assert.Equal(path, read.SourcePath);
        Assert.Equal("3", read.Metadata["epoch"]);
        Assert.Equal(["a", "b", "empty"], read.Tensors.Select(t => t.Name));
        Assert.Equal([2, 3], read["a"].Shape);
        Assert.Equal([1, 2, 3, 4, 5, 6.5f], read["a"].Data);
        Assert.Empty(read["b"].Shape);
        Assert.Equal([-0.25f], read["b"].Data);
        Assert.Empty(read["empty"].Data);
        Assert.Equal(File.ReadAllBytes(path), read.ToArray());
    }

    [Fact]
    public void AFileFromAnotherWriterIsRead()
    {
        // As in the format's documentation: whitespace, keys not in offset order, metadata last, no padding.
        var bytes = Assemble(
            """{ "weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [8, 24]}, "bias": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "__metadata__": {"format": "pt"} }   """,
            Floats(0.5f, -0.5f, 1, 2, 3, 4));
        var file = SafetensorsFile.Read(new MemoryStream(bytes), "other.safetensors");
        Assert.Equal(["bias", "weight"], file.Tensors.Select(t => t.Name));
        Assert.Equal([0.5f, -0.5f], file["bias"].Data);
        Assert.Equal([1f, 2, 3, 4], file["weight"].Data);
        Assert.Equal("pt", file.Metadata["format"]);
    }

    [Fact]
    public void CorruptHeadersAreReportedPrecisely()
    {
        var data = Floats(1, 2, 3, 4);
        const string Ok = """{"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""";
        Assert.Equal([1f, 2, 3, 4], SafetensorsFile.Read(new MemoryStream(Assemble(Ok, data)), "ok")["t"].Data);

        var e = ReadFails(Assemble("""{"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]""", data));
        Assert.Matches("^safetensors file 'bad.safetensors': the [0-9]+-byte header is not valid JSON: .*(end of data|LineNumber)", e.Message);

        var tooLong = Assemble(Ok, data);
        BinaryPrimitives.WriteUInt64LittleEndian(tooLong, 5000);
        e = ReadFails(tooLong);
        Assert.Equal("safetensors file 'bad.safetensors': the header length 5000 (first 8 bytes, little-endian) is larger than the rest of the file (71 of 79 bytes); the file is truncated or not a safetensors file.", e.Message);

        e = ReadFails([1, 2, 3]);
        Assert.Contains("the file is 3 bytes, too short for the 8-byte header length", e.Message);

        e = ReadFails(Assemble("""{"t":{"dtype":"F32","shape":[4],"data_offsets":[4,20]}}""", data));
        Assert.Equal("safetensors file 'bad.safetensors': tensor 't': data_offsets [4, 20] reach past the end of the data buffer, which is 16 bytes; the offsets point outside the file (or the file is truncated).", e.Message);

        e = ReadFails(Assemble("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", data));
        Assert.Equal("safetensors file 'bad.safetensors': tensors 'a' (data_offsets [0, 12]) and 'b' ([8, 16]) overlap; every byte of the data buffer must belong to one tensor.", e.Message);

        e = ReadFails(Assemble("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", data));
        Assert.Contains("bytes [4, 8) of the data buffer belong to no tensor (a hole before 'b')", e.Message);

        e = ReadFails(Assemble("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}""", data));
        Assert.Contains("the data buffer is 16 bytes but the tensors cover only [0, 12); 4 trailing bytes belong to no tensor", e.Message);

        e = ReadFails(Assemble("""{"t":{"dtype":"F16","shape":[8],"data_offsets":[0,16]}}""", data));
        Assert.Equal("safetensors file 'bad.safetensors': tensor 't' has dtype F16, which is not supported: PruneGen reads only F32 tensors (convert the checkpoint to float32).", e.Message);

        e = ReadFails(Assemble("""{"t":{"dtype":"Q4","shape":[4],"data_offsets":[0,16]}}""", data));
        Assert.Contains("tensor 't' has the unknown dtype 'Q4'", e.Message);

        e = ReadFails(Assemble("""{"t":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]}}""", data));
        Assert.Contains("tensor 't': shape [2, 3] of F32 needs 6 × 4 = 24 bytes but data_offsets [0, 16] span 16", e.Message);

        e = ReadFails(Assemble("""{"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"t":{"dtype":"F32","shape":[0],"data_offsets":[16,16]}}""", data));
        Assert.Contains("the header has the key 't' twice", e.Message);

        e = ReadFails(Assemble("""["t"]""", data));
        Assert.Contains("the header does not start with '{' (found byte 0x5B)", e.Message);

        e = ReadFails(Assemble("""{"__metadata__":{"epoch":3},"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", data));
        Assert.Contains("'__metadata__' entry 'epoch' is a JSON Number; metadata values must be strings", e.Message);

        e = ReadFails(Assemble("""{"t":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}""", data));
        Assert.Contains("tensor 't': shape[0] is -4, not a non-negative integer", e.Message);

        e = ReadFails(Assemble("""{"t":{"dtype":"F32","shape":[4]}}""", data));
        Assert.Contains("tensor 't' has no 'data_offsets' field", e.Message);

        e = ReadFails(Assemble("""{"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16],"stride":[1]}}""", data));
        Assert.Contains("tensor 't' has the unknown field 'stride'", e.Message);

        e = ReadFails(Assemble("""{"t":{"dtype":"F32","shape":[4],"data_offsets":[16,0]}}""", data));
        Assert.Contains("data_offsets [16, 0] ends before it begins", e.Message);
    }

    [Fact]
    public void AnInterruptedWriteLeavesThePreviousFileIntact()
    {
        var path = _dir.File("model.safetensors");
        Sample().Write(path);
        var before = File.ReadAllBytes(path);

        var bigger = new SafetensorsFile();
        bigger.Add("w", [1000], new float[1000]);
        var e = Assert.Throws<IOException>(() => bigger.Write(path, s => new FailingStream(s, failAfter: 1000)));
        Assert.Equal("Simulated failure after 1000 bytes.", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["model.safetensors"], Directory.GetFiles(_dir.Path).Select(Path.GetFileName));

        // A successful write replaces the file.
        bigger.Write(path);
        Assert.Equal(1000, SafetensorsFile.Read(path)["w"].Data.Length);
        Assert.Single(Directory.GetFiles(_dir.Path));
    }

    [Fact]
    public void InvalidTensorsAreRejectedWhenAdded()
    {
        var file = new SafetensorsFile();
        file.Add("x", [2], [1, 2]);
        Assert.Contains("already in the file", Assert.Throws<ArgumentException>(() => file.Add("x", [2], [1, 2])).Message);
        Assert.Contains("shape [2, 2] has 4 elements but 3 values", Assert.Throws<ArgumentException>(() => file.Add("y", [2, 2], [1, 2, 3])).Message);
        Assert.Contains("reserved", Assert.Throws<ArgumentException>(() => file.Add("__metadata__", [1], [1])).Message);
        Assert.Contains("has no tensor 'z'", Assert.Throws<KeyNotFoundException>(() => file["z"]).Message);
    }

    /// <summary>Passes writes through until <c>failAfter</c> bytes, then throws, like a full disk.</summary>
    internal sealed class FailingStream(Stream inner, long failAfter) : Stream
    {
        private long _written;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _written;

        public override long Position
        {
            get => _written;
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            var allowed = (int)Math.Min(buffer.Length, failAfter - _written);
            inner.Write(buffer[..allowed]);
            _written += allowed;
            if (allowed < buffer.Length)
            {
                throw new IOException($"Simulated failure after {failAfter} bytes.");
            }
        }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
