using PruneGen.Data;

namespace PruneGen.Tests.Data;

/// <summary>
/// The embedded subset (src/PruneGen/Data/Embedded) is exactly the first 600 training and 200 test images of
/// each class of the Debian files. Setting PRUNEGEN_WRITE_EMBEDDED_SUBSET=1 regenerates the files instead:
/// <c>PRUNEGEN_WRITE_EMBEDDED_SUBSET=1 dotnet test tests/PruneGen.Tests --filter EmbeddedSubsetIsTheFirstImagesOfEachClass</c>,
/// then rebuild.
/// </summary>
[Trait("Category", "Data")]
public class EmbeddedSubsetTests
{
    [RequiresFashionMnistFact]
    public void EmbeddedSubsetIsTheFirstImagesOfEachClass()
    {
        var splits = new[]
        {
            (Images: "train-images-idx3-ubyte", Labels: "train-labels-idx1-ubyte", PerClass: FashionMnist.EmbeddedTrainPerClass),
            (Images: "t10k-images-idx3-ubyte", Labels: "t10k-labels-idx1-ubyte", PerClass: FashionMnist.EmbeddedTestPerClass),
        };
        var write = Environment.GetEnvironmentVariable("PRUNEGEN_WRITE_EMBEDDED_SUBSET") == "1";
        var assembly = typeof(FashionMnist).Assembly;
        foreach (var split in splits)
        {
            var (images, labels) = DataTestSupport.BuildSubset(
                IdxReader.ReadImages(DataTestSupport.SystemFile(split.Images)),
                IdxReader.ReadLabels(DataTestSupport.SystemFile(split.Labels)),
                split.PerClass);
            if (write)
            {
                var folder = Path.Combine(DataTestSupport.RepositoryRoot, "src", "PruneGen", "Data", "Embedded");
                File.WriteAllBytes(Path.Combine(folder, split.Images + ".gz"), IdxWriter.Gzip(images));
                File.WriteAllBytes(Path.Combine(folder, split.Labels + ".gz"), IdxWriter.Gzip(labels));
                continue;
            }

            foreach (var (file, expected) in new[] { (split.Images, images), (split.Labels, labels) })
            {
                using var stream = assembly.GetManifestResourceStream($"PruneGen.Data.Embedded.{file}.gz");
                Assert.NotNull(stream);
                using var gzip = new System.IO.Compression.GZipStream(stream, System.IO.Compression.CompressionMode.Decompress);
                using var content = new MemoryStream();
                gzip.CopyTo(content);
                Assert.True(expected.AsSpan().SequenceEqual(content.ToArray()), $"Embedded {file}.gz differs from the first {split.PerClass} per class of the Debian file; regenerate it (see the class comment).");
            }
        }
    }
}
