using PruneGen.Data;

namespace PruneGen.Tests.Data;

[Trait("Category", "Data")]
public sealed class IdxReaderTests : IDisposable
{
    private readonly DataTestSupport.TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static byte[] SampleImages(int count = 3, int rows = 4, int columns = 5)
    {
        var pixels = new byte[count * rows * columns];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)(i * 7);
        }

        return IdxWriter.Images(pixels, count, rows, columns);
    }

    private string Write(string name, byte[] bytes)
    {
        var path = _dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void RawAndGzipFilesReadTheSame()
    {
        var raw = Write("images", SampleImages());
        var gz = Write("images.gz", IdxWriter.Gzip(SampleImages()));
        var a = IdxReader.ReadImages(raw);
        var b = IdxReader.ReadImages(gz);
        Assert.Equal((3, 4, 5), (a.Count, a.Rows, a.Columns));
        Assert.Equal((3, 4, 5), (b.Count, b.Rows, b.Columns));
        Assert.Equal(a.Pixels, b.Pixels);
        Assert.Equal(14, a.Pixels[2]);

        // gzip is detected by its magic bytes, not by the name.
        var disguised = Write("labels.idx", IdxWriter.Gzip(IdxWriter.Labels([1, 2, 3])));
        Assert.Equal([1, 2, 3], IdxReader.ReadLabels(disguised));
    }

    [Fact]
    public void WrongMagicNamesTheFileAndTheValueFound()
    {
        var path = Write("train-images-idx3-ubyte", IdxWriter.Labels([1, 2, 3]));
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        Assert.Equal($"IDX file '{path}': wrong magic number 0x00000801, expected 0x00000803 (images: unsigned bytes, 3 dimensions); it has 1 dimension (this looks like a labels file).", e.Message);

        var labels = Write("labels.gz", IdxWriter.Gzip(SampleImages()));
        e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(labels));
        Assert.Contains("wrong magic number 0x00000803, expected 0x00000801", e.Message);
        Assert.Contains("looks like an images file", e.Message);

        var text = Write("notes.txt", "hello, world"u8.ToArray());
        e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(text));
        Assert.Contains($"'{text}'", e.Message);
        Assert.Contains("wrong magic number 0x68656C6C", e.Message);
        Assert.Contains("not an IDX file", e.Message);

        var floats = Write("floats", IdxWriter.Build(0x00000D03, [1, 1, 1], [0, 0, 0, 0]));
        e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(floats));
        Assert.Contains("data type 0x0D (float32) is not supported, only 0x08 (unsigned byte)", e.Message);
    }

    [Fact]
    public void TruncatedGzipIsReported()
    {
        var whole = IdxWriter.Gzip(SampleImages(count: 50, rows: 28, columns: 28));

        // Cut inside the compressed data: the decompressed payload is short.
        var half = Write("half.gz", whole[..(whole.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(half));
        Assert.StartsWith($"IDX file '{half}': truncated gzip: the decompressed data ends after ", e.Message);
        Assert.Contains("the header announces 50 images of 28×28: 16 + 39200 = 39216 bytes", e.Message);

        // Cut inside the 8-byte trailer: all data decompresses, but the trailer is gone.
        var trailer = Write("trailer.gz", whole[..^3]);
        e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(trailer));
        Assert.Contains($"IDX file '{trailer}': truncated or corrupt gzip: 39216 bytes were decompressed but the gzip trailer records", e.Message);

        var tiny = Write("tiny.gz", whole[..10]);
        e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(tiny));
        Assert.Contains("truncated gzip: the file is 10 bytes", e.Message);
    }

    [Fact]
    public void CorruptGzipIsReported()
    {
        var bytes = IdxWriter.Gzip(SampleImages(count: 50, rows: 28, columns: 28));
        for (var i = 20; i < bytes.Length - 20; i += 3)
        {
            bytes[i] ^= 0x5A;
        }

        var path = Write("corrupt.gz", bytes);
        var e = Assert.ThrowsAny<InvalidDataException>(() => IdxReader.ReadImages(path));
        Assert.StartsWith($"IDX file '{path}': ", e.Message);
        Assert.Contains("corrupt gzip", e.Message);
    }

    [Fact]
    public void TruncatedOrOverlongPayloadIsReported()
    {
        var images = SampleImages();
        var cut = Write("cut", images[..^7]);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(cut));
        Assert.Equal($"IDX file '{cut}': truncated file: it ends after 69 bytes, but the header announces 3 images of 4×5: 16 + 60 = 76 bytes.", e.Message);

        var headerOnly = Write("header", images[..10]);
        e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(headerOnly));
        Assert.Contains("ends inside the header", e.Message);

        var empty = Write("empty", []);
        e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(empty));
        Assert.Contains("has only 0 bytes", e.Message);

        var longer = Write("longer", [.. IdxWriter.Labels([1, 2]), 9, 9, 9]);
        e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(longer));
        Assert.Equal($"IDX file '{longer}': 3 bytes of unexpected data follow the 2-byte payload announced by the header (dimensions [2]).", e.Message);
    }

    [Fact]
    public void BadDimensionsAreReported()
    {
        var negative = Write("negative", IdxWriter.Build(IdxReader.ImagesMagic, [-1, 28, 28], []));
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(negative));
        Assert.Contains("dimension 0 is -1", e.Message);

        var huge = Write("huge", IdxWriter.Build(IdxReader.ImagesMagic, [int.MaxValue, 28, 28], []));
        e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(huge));
        Assert.Contains("more than this reader supports", e.Message);
    }

    [Fact]
    public void NonSeekableStreamsAreRead()
    {
        using var stream = new NonSeekable(IdxWriter.Gzip(IdxWriter.Labels([4, 5])));
        Assert.Equal([4, 5], IdxReader.ReadLabels(stream, "pipe"));
    }

    private sealed class NonSeekable(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
