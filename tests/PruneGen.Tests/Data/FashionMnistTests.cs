using System.Diagnostics;
using PruneGen.Data;
using Xunit.Abstractions;

namespace PruneGen.Tests.Data;

[Trait("Category", "Data")]
public sealed class FashionMnistTests(ITestOutputHelper output) : IDisposable
{
    private readonly DataTestSupport.TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Writes a tiny Fashion-MNIST-shaped directory: <paramref name="labels"/> and one 28×28 image per label (gzip).</summary>
    private string WriteTinySet(string name, byte[] labels, int? imageCount = null, int size = 28)
    {
        var dir = Path.Combine(_dir.Path, name);
        Directory.CreateDirectory(dir);
        var count = imageCount ?? labels.Length;
        var pixels = new byte[count * size * size];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)i;
        }

        foreach (var split in new[] { "train", "t10k" })
        {
            File.WriteAllBytes(Path.Combine(dir, $"{split}-images-idx3-ubyte.gz"), IdxWriter.Gzip(IdxWriter.Images(pixels, count, size, size)));
            File.WriteAllBytes(Path.Combine(dir, $"{split}-labels-idx1-ubyte.gz"), IdxWriter.Gzip(IdxWriter.Labels(labels)));
        }

        return dir;
    }

    [RequiresFashionMnistFact]
    public void TheFullDatasetLoadsWithBalancedClassesAndTheStatedNormalization()
    {
        var stopwatch = Stopwatch.StartNew();
        var data = FashionMnist.Load(directory: null, allowEmbeddedSubset: false, environmentValue: null, FashionMnist.SystemDirectory);
        var elapsed = stopwatch.Elapsed;
        output.WriteLine($"Full load (4 gzip files → normalized floats): {elapsed.TotalMilliseconds:F0} ms; {data}");

        Assert.Equal(FashionMnistSource.SystemPackage, data.Kind);
        Assert.Equal(FashionMnist.SystemDirectory, data.Source);
        Assert.False(data.IsSubset);
        Assert.Equal(60_000, data.Train.Count);
        Assert.Equal(10_000, data.Test.Count);
        Assert.Equal(60_000 * 784, data.Train.Images.Length);
        Assert.Equal((1, 28, 28, 10), (data.Train.Channels, data.Train.Height, data.Train.Width, data.Train.ClassCount));
        Assert.All(data.Train.ClassHistogram(), n => Assert.Equal(6_000, n));
        Assert.All(data.Test.ClassHistogram(), n => Assert.Equal(1_000, n));

        // The first training sample is an ankle boot (label 9), the first test sample too.
        Assert.Equal(9, data.Train.Labels[0]);
        Assert.Equal(9, data.Test.Labels[0]);

        // Normalized with the training set's own mean/std: mean ≈ 0, std ≈ 1.
        double sum = 0, squares = 0;
        foreach (var v in data.Train.Images)
        {
            sum += v;
            squares += (double)v * v;
        }

        var mean = sum / data.Train.Images.Length;
        var std = Math.Sqrt((squares / data.Train.Images.Length) - (mean * mean));
        output.WriteLine($"Normalized training set: mean {mean:E2}, std {std:F6}");
        Assert.InRange(mean, -1e-5, 1e-5);
        Assert.InRange(std, 1 - 1e-5, 1 + 1e-5);
        Assert.Equal(-FashionMnist.Mean / FashionMnist.Std, data.Train.PaddingValue, 1e-6f);

        // Generous bound: ~0.3 s on an idle 2-core machine, but the machine is shared.
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"Loading took {elapsed}.");
    }

    [Fact]
    public void TheEmbeddedSubsetLoads()
    {
        var data = FashionMnist.LoadEmbeddedSubset();
        Assert.Equal(FashionMnistSource.EmbeddedSubset, data.Kind);
        Assert.True(data.IsSubset);
        Assert.Equal("embedded subset (6 000 train / 2 000 test)", data.Source);
        Assert.Equal(6_000, data.Train.Count);
        Assert.Equal(2_000, data.Test.Count);
        Assert.All(data.Train.ClassHistogram(), n => Assert.Equal(600, n));
        Assert.All(data.Test.ClassHistogram(), n => Assert.Equal(200, n));
        Assert.Equal(9, data.Train.Labels[0]);
        Assert.Equal(FashionMnist.Normalization, data.Train.Normalization);
        Assert.Contains("embedded subset", data.Train.Name);
    }

    [Fact]
    public void WithoutAnyDataTheEmbeddedSubsetIsTheFallback()
    {
        var data = FashionMnist.Load(null, allowEmbeddedSubset: true, environmentValue: null, systemDirectory: _dir.File("absent"));
        Assert.Equal(FashionMnistSource.EmbeddedSubset, data.Kind);
        Assert.Equal(6_000, data.Train.Count);
    }

    [Fact]
    public void WithoutAnyDataTheMessageSaysHowToGetIt()
    {
        var absent = _dir.File("absent");
        var e = Assert.Throws<DatasetNotFoundException>(() => FashionMnist.Load(null, allowEmbeddedSubset: false, environmentValue: null, systemDirectory: absent));
        output.WriteLine(e.Message);
        Assert.StartsWith("Fashion-MNIST was not found. Looked in PRUNEGEN_FASHION_MNIST is not set; '" + absent + "' (package dataset-fashion-mnist): the directory does not exist.", e.Message);
        Assert.Contains("sudo apt-get install dataset-fashion-mnist", e.Message);
        Assert.Contains("set PRUNEGEN_FASHION_MNIST=that-directory", e.Message);
        Assert.Contains("https://github.com/zalandoresearch/fashion-mnist", e.Message);
        Assert.Contains("train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz", e.Message);
        Assert.Contains("allowEmbeddedSubset is false", e.Message);
        Assert.IsAssignableFrom<FileNotFoundException>(e);
    }

    [Fact]
    public void AnExplicitDirectoryWithoutTheFilesIsAnErrorNotAFallback()
    {
        var dir = WriteTinySet("partial", [1, 2]);
        File.Delete(Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"));
        var e = Assert.Throws<DatasetNotFoundException>(() => FashionMnist.Load(dir, allowEmbeddedSubset: true, environmentValue: null, systemDirectory: _dir.File("absent")));
        Assert.Contains($"the directory passed to FashionMnist.Load, '{dir}': missing t10k-labels-idx1-ubyte[.gz]", e.Message);
        Assert.Contains("never skipped", e.Message);

        e = Assert.Throws<DatasetNotFoundException>(() => FashionMnist.Load(null, allowEmbeddedSubset: true, environmentValue: _dir.File("nowhere"), systemDirectory: _dir.File("absent")));
        Assert.Contains($"PRUNEGEN_FASHION_MNIST='{_dir.File("nowhere")}': the directory does not exist", e.Message);
    }

    [Fact]
    public void PlacesAreSearchedInOrder()
    {
        var explicitDir = WriteTinySet("explicit", [1]);
        var envDir = WriteTinySet("env", [2, 2]);
        var systemDir = WriteTinySet("system", [3, 3, 3]);

        var data = FashionMnist.Load(explicitDir, true, envDir, systemDir);
        Assert.Equal((FashionMnistSource.Directory, explicitDir, 1), (data.Kind, data.Source, data.Train.Count));
        data = FashionMnist.Load(null, true, envDir, systemDir);
        Assert.Equal((FashionMnistSource.EnvironmentVariable, envDir, 2), (data.Kind, data.Source, data.Train.Count));
        data = FashionMnist.Load(null, true, null, systemDir);
        Assert.Equal((FashionMnistSource.SystemPackage, systemDir, 3), (data.Kind, data.Source, data.Train.Count));
        Assert.Equal(3, data.Test.Labels[0]);

        // Uncompressed files are found too.
        var raw = Path.Combine(_dir.Path, "raw");
        Directory.CreateDirectory(raw);
        foreach (var file in FashionMnist.FileNames)
        {
            using var gz = new System.IO.Compression.GZipStream(File.OpenRead(Path.Combine(explicitDir, file + ".gz")), System.IO.Compression.CompressionMode.Decompress);
            using var target = File.Create(Path.Combine(raw, file));
            gz.CopyTo(target);
        }

        Assert.Equal(1, FashionMnist.LoadDirectory(raw).Test.Labels[0]);
    }

    [Fact]
    public void ImageAndLabelCountMismatchNamesBothFiles()
    {
        var dir = WriteTinySet("mismatch", [1, 2, 3, 4], imageCount: 5);
        var e = Assert.Throws<InvalidDataException>(() => FashionMnist.LoadDirectory(dir));
        output.WriteLine(e.Message);
        var labels = Path.Combine(dir, "train-labels-idx1-ubyte.gz");
        var images = Path.Combine(dir, "train-images-idx3-ubyte.gz");
        Assert.Equal($"IDX file '{labels}': has 4 labels but '{images}' has 5 images; the counts must match (are the files from the same split?).", e.Message);
    }

    [Fact]
    public void LabelOutOfRangeNamesTheFileAndIndex()
    {
        var dir = WriteTinySet("range", [1, 9, 10, 3]);
        var e = Assert.Throws<InvalidDataException>(() => FashionMnist.LoadDirectory(dir));
        output.WriteLine(e.Message);
        Assert.Equal($"IDX file '{Path.Combine(dir, "train-labels-idx1-ubyte.gz")}': label 10 at index 2 is out of range; Fashion-MNIST labels are 0–9.", e.Message);
    }

    [Fact]
    public void WrongImageSizeIsReported()
    {
        var dir = WriteTinySet("size", [1, 2], size: 27);
        var e = Assert.Throws<InvalidDataException>(() => FashionMnist.LoadDirectory(dir));
        Assert.Contains("images are 27×27; Fashion-MNIST images are 28×28", e.Message);
    }

    [Fact]
    public void NormalizationUsesTheStatedConstants()
    {
        Assert.Equal(0.2860406f, FashionMnist.Mean);
        Assert.Equal(0.3530242f, FashionMnist.Std);
        var n = FashionMnist.Normalization;
        Assert.Equal((0f - 0.2860406f) / 0.3530242f, n.Apply(0), 1e-6f);
        Assert.Equal((1f - 0.2860406f) / 0.3530242f, n.Apply(255), 1e-6f);
        var values = new float[3];
        n.Apply([0, 128, 255], values);
        Assert.Equal(n.Apply(128), values[1]);
        Assert.Equal(10, FashionMnist.ClassNames.Count);
        Assert.Equal("Ankle boot", FashionMnist.ClassNames[9]);
    }
}
