using System.Security.Cryptography;
using PruneGen.Data;

namespace PruneGen.Tests.Training;

/// <summary>Shared data and assertions of the training tests.</summary>
internal static class TrainingTestSupport
{
    private static readonly Lazy<FashionMnistData> Loaded = new(() => PruneGen.Data.FashionMnist.Load());

    /// <summary>
    /// Fashion-MNIST as <see cref="PruneGen.Data.FashionMnist.Load(string?, bool)"/> finds it: the Debian package (CI installs it) or, where
    /// it is absent, the embedded 6 000 / 2 000 subset. Loaded once per test run.
    /// </summary>
    public static FashionMnistData FashionMnistSet => Loaded.Value;

    /// <summary>The first <paramref name="count"/> training images.</summary>
    public static Dataset Train(int count) => FashionMnistSet.Train.Slice(0, count);

    /// <summary>Asserts |expected − actual| ≤ tolerance element by element, naming the first bad index.</summary>
    public static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: expected {expected.Length} values, got {actual.Length}.");
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (tolerance {tolerance}).");
        }
    }

    /// <summary>Every parameter and running statistic, bit for bit.</summary>
    public static void AssertBitIdentical(INetwork expected, INetwork actual, string what)
    {
        for (var t = 0; t < expected.Parameters.Count; t++)
        {
            var a = expected.Parameters[t];
            var b = actual.Parameters[t];
            Assert.Equal(a.Name, b.Name);
            for (var i = 0; i < a.Length; i++)
            {
                if (BitConverter.SingleToInt32Bits(a.Data[i]) != BitConverter.SingleToInt32Bits(b.Data[i]))
                {
                    Assert.Fail($"{what}: {a.Name}[{i}] differs: {a.Data[i]:R} vs {b.Data[i]:R}.");
                }
            }
        }
    }

    /// <summary>A SHA-256 of every parameter's bits (to compare runs across processes by eye).</summary>
    public static string Fingerprint(INetwork network)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var p in network.Parameters)
        {
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(p.Data.AsSpan()));
        }

        return Convert.ToHexString(hash.GetHashAndReset())[..16];
    }
}
