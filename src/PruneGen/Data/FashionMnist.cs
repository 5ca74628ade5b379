using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;

namespace PruneGen.Data;

/// <summary>Where <see cref="FashionMnist.Load(string?, bool)"/> found the data.</summary>
public enum FashionMnistSource
{
    /// <summary>The directory passed to the loader.</summary>
    Directory,

    /// <summary>The directory named by the <c>PRUNEGEN_FASHION_MNIST</c> environment variable.</summary>
    EnvironmentVariable,

    /// <summary>The Debian package's directory, /usr/share/datasets/fashion-mnist.</summary>
    SystemPackage,

    /// <summary>The compact subset embedded in the PruneGen assembly.</summary>
    EmbeddedSubset,
}

/// <summary>Fashion-MNIST's training and test sets and where they came from.</summary>
public sealed class FashionMnistData
{
    internal FashionMnistData(Dataset train, Dataset test, FashionMnistSource kind, string source)
    {
        Train = train;
        Test = test;
        Kind = kind;
        Source = source;
    }

    /// <summary>The training set (60 000 images, or the embedded subset's 6 000).</summary>
    public Dataset Train { get; }

    /// <summary>The test set (10 000 images, or the embedded subset's 2 000).</summary>
    public Dataset Test { get; }

    /// <summary>Which place the data came from.</summary>
    public FashionMnistSource Kind { get; }

    /// <summary>
    /// The directory the files were read from, or <c>"embedded subset (6 000 train / 2 000 test)"</c>;
    /// worth printing in every training log.
    /// </summary>
    public string Source { get; }

    /// <summary>True when this is the embedded subset rather than the full dataset.</summary>
    public bool IsSubset => Kind == FashionMnistSource.EmbeddedSubset;

    /// <inheritdoc />
    public override string ToString() => $"Fashion-MNIST: {Train.Count} train / {Test.Count} test images from {Source}";
}

/// <summary>
/// Loads Fashion-MNIST (Zalando Research, MIT licence): 28×28 grayscale images of 10 clothing classes,
/// 60 000 for training and 10 000 for testing, normalized with the training set's mean and std
/// (<see cref="Mean"/>, <see cref="Std"/>) into NCHW float arrays of 1×28×28 per image.
/// </summary>
/// <remarks>
/// Where the data is looked for, in order:
/// (1) the directory passed to <see cref="Load(string?, bool)"/>;
/// (2) the directory in the environment variable <c>PRUNEGEN_FASHION_MNIST</c>;
/// (3) <c>/usr/share/datasets/fashion-mnist</c> (Debian/Ubuntu: <c>apt-get install dataset-fashion-mnist</c>);
/// (4) a balanced subset embedded in the assembly — the first 600 training and the first 200 test images of
/// each class, 6 000 / 2 000 in all, in original file order — unless the caller disallows it.
/// A directory named explicitly (1 or 2) must hold the files: it is never skipped silently.
/// Each directory needs train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
/// t10k-labels-idx1-ubyte, each either gzip-compressed (<c>.gz</c>, as distributed) or raw.
/// </remarks>
public static class FashionMnist
{
    /// <summary>The environment variable that may name the data directory.</summary>
    public const string EnvironmentVariable = "PRUNEGEN_FASHION_MNIST";

    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs the files.</summary>
    public const string SystemDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>Mean pixel intensity (scaled to [0, 1]) of the 60 000 training images: 0.2860406.</summary>
    public const float Mean = 0.2860406f;

    /// <summary>Standard deviation of the training images' scaled pixel intensities (over all 47 040 000 pixels): 0.3530242.</summary>
    public const float Std = 0.3530242f;

    /// <summary>Image side in pixels.</summary>
    public const int ImageSize = 28;

    /// <summary>Number of classes.</summary>
    public const int ClassCount = 10;

    /// <summary>Training images per class in the embedded subset.</summary>
    public const int EmbeddedTrainPerClass = 600;

    /// <summary>Test images per class in the embedded subset.</summary>
    public const int EmbeddedTestPerClass = 200;

    /// <summary>The four file names (without <c>.gz</c>): train images, train labels, test images, test labels.</summary>
    public static readonly IReadOnlyList<string> FileNames =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// <summary>The class names, by label.</summary>
    public static readonly IReadOnlyList<string> ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The normalization applied to every image: (pixel / 255 − 0.2860406) / 0.3530242.</summary>
    public static Normalization Normalization => new(Mean, Std);

    /// <summary>
    /// The <see cref="FashionMnistData.Source"/> of the embedded subset: "embedded subset (6 000 train / 2 000 test)".
    /// </summary>
    public const string EmbeddedSourceDescription = "embedded subset (6 000 train / 2 000 test)";

    private const string ResourcePrefix = "PruneGen.Data.Embedded.";

    /// <summary>Loads Fashion-MNIST from the first place that has it (see the type's remarks).</summary>
    /// <param name="directory">A directory that must hold the four files; null to search.</param>
    /// <param name="allowEmbeddedSubset">Fall back to the embedded 6 000 / 2 000 subset when nothing else is found.</param>
    /// <exception cref="DatasetNotFoundException">No place has the files; the message says how to get them.</exception>
    /// <exception cref="InvalidDataException">A file is malformed, counts disagree, a label is out of range.</exception>
    public static FashionMnistData Load(string? directory = null, bool allowEmbeddedSubset = true) =>
        Load(directory, allowEmbeddedSubset, Environment.GetEnvironmentVariable(EnvironmentVariable), SystemDirectory);

    /// <summary>Loads the subset embedded in the assembly (600 training and 200 test images per class).</summary>
    public static FashionMnistData LoadEmbeddedSubset()
    {
        var assembly = typeof(FashionMnist).Assembly;
        var parts = new (byte[]? Labels, IdxImages? Images)[2];
        Parallel.For(0, 2, split =>
        {
            var (images, labels) = (FileNames[2 * split], FileNames[(2 * split) + 1]);
            parts[split] = (ReadResource(labels, IdxReader.ReadLabels), ReadResource(images, IdxReader.ReadImages));
        });

        var train = Build("Fashion-MNIST train, " + EmbeddedSourceDescription, parts[0].Images!, parts[0].Labels!, ResourcePrefix + FileNames[1] + ".gz");
        var test = Build("Fashion-MNIST test, " + EmbeddedSourceDescription, parts[1].Images!, parts[1].Labels!, ResourcePrefix + FileNames[3] + ".gz");
        return new FashionMnistData(train, test, FashionMnistSource.EmbeddedSubset, EmbeddedSourceDescription);

        T ReadResource<T>(string file, Func<Stream, string, T> read)
        {
            var name = ResourcePrefix + file + ".gz";
            using var stream = assembly.GetManifestResourceStream(name)
                ?? throw new DatasetNotFoundException($"The embedded Fashion-MNIST subset resource '{name}' is missing from {assembly.GetName().Name}; the assembly was built without src/PruneGen/Data/Embedded.");
            return read(stream, name);
        }
    }

    /// <summary>Loads the four files from <paramref name="directory"/> (raw or .gz each).</summary>
    /// <exception cref="DatasetNotFoundException">A file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is malformed, counts disagree, a label is out of range.</exception>
    public static FashionMnistData LoadDirectory(string directory) =>
        LoadDirectory(directory, FashionMnistSource.Directory);

    internal static FashionMnistData Load(string? directory, bool allowEmbeddedSubset, string? environmentValue, string systemDirectory)
    {
        if (directory is not null)
        {
            return Missing(directory) is { } missing
                ? throw NotFound($"the directory passed to FashionMnist.Load, '{directory}': {missing}", allowEmbeddedSubset, explicitPlace: true)
                : LoadDirectory(directory, FashionMnistSource.Directory);
        }

        if (!string.IsNullOrWhiteSpace(environmentValue))
        {
            return Missing(environmentValue) is { } missing
                ? throw NotFound($"{EnvironmentVariable}='{environmentValue}': {missing}", allowEmbeddedSubset, explicitPlace: true)
                : LoadDirectory(environmentValue, FashionMnistSource.EnvironmentVariable);
        }

        if (Missing(systemDirectory) is not { } systemMissing)
        {
            return LoadDirectory(systemDirectory, FashionMnistSource.SystemPackage);
        }

        if (allowEmbeddedSubset)
        {
            return LoadEmbeddedSubset();
        }

        throw NotFound($"{EnvironmentVariable} is not set; '{systemDirectory}' (package dataset-fashion-mnist): {systemMissing}", allowEmbeddedSubset, explicitPlace: false);
    }

    /// <summary>The message of the exception thrown when the data is not found.</summary>
    internal static DatasetNotFoundException NotFound(string whereLooked, bool allowEmbeddedSubset, bool explicitPlace)
    {
        var text = new StringBuilder();
        text.Append("Fashion-MNIST was not found. Looked in ").Append(whereLooked).AppendLine(".");
        text.AppendLine("To get it, do one of:");
        text.AppendLine("  - Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist   (installs the files under /usr/share/datasets/fashion-mnist, found automatically);");
        text.Append("  - download the four files ").Append(string.Join(", ", FileNames.Select(f => f + ".gz")))
            .AppendLine(" from the Zalando Research repository, https://github.com/zalandoresearch/fashion-mnist (folder data/fashion), into a directory,")
            .Append("    then set ").Append(EnvironmentVariable).AppendLine("=that-directory or pass it to FashionMnist.Load(directory).");
        if (explicitPlace)
        {
            text.Append("A directory named explicitly (argument or ").Append(EnvironmentVariable).Append(") must hold the files; it is never skipped. ");
        }

        if (!allowEmbeddedSubset)
        {
            text.Append("The ").Append(EmbeddedSourceDescription).Append(" was not used because allowEmbeddedSubset is false.");
        }
        return new DatasetNotFoundException(text.ToString().TrimEnd());
    }

    private static FashionMnistData LoadDirectory(string directory, FashionMnistSource kind)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (Missing(directory) is { } missing)
        {
            throw NotFound($"'{directory}': {missing}", allowEmbeddedSubset: true, explicitPlace: true);
        }

        var paths = new string[4];
        for (var i = 0; i < 4; i++)
        {
            paths[i] = Find(directory, FileNames[i])!;
        }

        // Train and test in parallel: gunzip of the 26 MB training images dominates.
        var parts = new (byte[]? Labels, IdxImages? Images)[2];
        Parallel.For(0, 2, split => parts[split] = (IdxReader.ReadLabels(paths[(2 * split) + 1]), IdxReader.ReadImages(paths[2 * split])));
        var fullPath = Path.GetFullPath(directory);
        var train = Build($"Fashion-MNIST train ({fullPath})", parts[0].Images!, parts[0].Labels!, paths[1]);
        var test = Build($"Fashion-MNIST test ({fullPath})", parts[1].Images!, parts[1].Labels!, paths[3]);
        return new FashionMnistData(train, test, kind, fullPath);
    }

    private static Dataset Build(string name, IdxImages images, byte[] labels, string labelsSource)
    {
        if (images.Rows != ImageSize || images.Columns != ImageSize)
        {
            throw IdxReader.Error(images.Source, $"images are {images.Rows}×{images.Columns}; Fashion-MNIST images are {ImageSize}×{ImageSize}.");
        }

        if (images.Count != labels.Length)
        {
            throw IdxReader.Error(labelsSource, $"has {labels.Length} labels but '{images.Source}' has {images.Count} images; the counts must match (are the files from the same split?).");
        }

        var bad = Dataset.FindLabelOutOfRange(labels, ClassCount);
        if (bad >= 0)
        {
            throw IdxReader.Error(labelsSource, $"label {labels[bad]} at index {bad} is out of range; Fashion-MNIST labels are 0–{ClassCount - 1}.");
        }

        return Dataset.FromPixels(name, images.Pixels, labels, 1, ImageSize, ImageSize, ClassCount, Normalization);
    }

    /// <summary>Null when <paramref name="directory"/> has all four files, else what is missing.</summary>
    private static string? Missing(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            return "the directory does not exist";
        }

        var missing = new List<string>();
        foreach (var file in FileNames)
        {
            if (Find(directory, file) is null)
            {
                missing.Add(file + "[.gz]");
            }
        }

        return missing.Count == 0 ? null : "missing " + string.Join(", ", missing);
    }

    private static string? Find(string directory, string file)
    {
        var gz = Path.Combine(directory, file + ".gz");
        if (File.Exists(gz))
        {
            return gz;
        }

        var raw = Path.Combine(directory, file);
        return File.Exists(raw) ? raw : null;
    }
}
