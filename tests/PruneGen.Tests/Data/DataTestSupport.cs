using PruneGen.Data;

namespace PruneGen.Tests.Data;

/// <summary>A [Fact] that is skipped, with instructions, when Debian's Fashion-MNIST files are absent.</summary>
public sealed class RequiresFashionMnistFactAttribute : FactAttribute
{
    public RequiresFashionMnistFactAttribute()
    {
        if (!DataTestSupport.SystemDataPresent)
        {
            Skip = $"Fashion-MNIST is not installed in {FashionMnist.SystemDirectory}: run 'apt-get install dataset-fashion-mnist' (CI installs it).";
        }
    }
}

internal static class DataTestSupport
{
    public static bool SystemDataPresent => FashionMnist.FileNames.All(f => File.Exists(SystemFile(f)));

    public static string SystemFile(string name) => Path.Combine(FashionMnist.SystemDirectory, name + ".gz");

    /// <summary>The repository root (the folder holding PruneGen.sln).</summary>
    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "PruneGen.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("PruneGen.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>
    /// The embedded subset's selection: the first <paramref name="perClass"/> images of each class, in file order.
    /// Returns the chosen indices (ascending).
    /// </summary>
    public static int[] FirstPerClass(byte[] labels, int perClass, int classCount = 10)
    {
        var taken = new int[classCount];
        var chosen = new List<int>(perClass * classCount);
        for (var i = 0; i < labels.Length; i++)
        {
            if (taken[labels[i]] < perClass)
            {
                taken[labels[i]]++;
                chosen.Add(i);
            }
        }

        Assert.All(taken, t => Assert.Equal(perClass, t));
        return [.. chosen];
    }

    /// <summary>The IDX files of the subset of one split: (images, labels), uncompressed.</summary>
    public static (byte[] Images, byte[] Labels) BuildSubset(IdxImages images, byte[] labels, int perClass)
    {
        var chosen = FirstPerClass(labels, perClass);
        var size = images.Rows * images.Columns;
        var pixels = new byte[chosen.Length * size];
        var subsetLabels = new byte[chosen.Length];
        for (var i = 0; i < chosen.Length; i++)
        {
            images.Pixels.AsSpan(chosen[i] * size, size).CopyTo(pixels.AsSpan(i * size));
            subsetLabels[i] = labels[chosen[i]];
        }

        return (IdxWriter.Images(pixels, chosen.Length, images.Rows, images.Columns), IdxWriter.Labels(subsetLabels));
    }

    /// <summary>A fresh temporary directory, deleted on dispose.</summary>
    public sealed class TempDirectory : IDisposable
    {
        public TempDirectory()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "prunegen-tests-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
