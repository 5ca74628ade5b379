using PruneGen.Examples.Networks;
using PruneGen.Kernels;
using PruneGen.Tests.Reference;
using Xunit.Abstractions;

namespace PruneGen.Tests.Numerics;

/// <summary>
/// Generated <c>Forward</c> against <see cref="ScalarReference"/>, with seeded random weights and BatchNorm
/// statistics. Marked <c>Category=Numerics</c> so CI reruns them under <c>PRUNEGEN_SIMD=256</c> and
/// <c>PRUNEGEN_SIMD=scalar</c>: <see cref="Simd.Level"/> is fixed per process, so each width needs its own run.
/// </summary>
[Trait("Category", "Numerics")]
public class ForwardNumericsTests(ITestOutputHelper output)
{
    private static readonly string[] TestNetworks =
    [
        nameof(NumDenseChain), nameof(NumDenseWide), nameof(NumFlatJoins), nameof(NumConvOdd), nameof(NumConvSingleChannel),
        nameof(NumGroupedConv), nameof(NumDepthwise), nameof(NumResidualConcat), nameof(NumPaddedPools), nameof(NumWideConv),
        nameof(NumExactTiles), nameof(NumWinograd), nameof(NumWinograd4), nameof(NumWinograd4Narrow), nameof(NumStridedRows), nameof(NumImplicitResidual),
        nameof(NumWidePool), nameof(NumBroadcast), nameof(NumBroadcastRows),
    ];

    private static readonly string[] ReferenceNetworks = [nameof(Mlp), nameof(LeNet5), nameof(VggNet), nameof(TinyResNet)];

    /// <summary>The small test networks at batch 1 and 5.</summary>
    public static TheoryData<string, int> TestNetworkCases => Cases(TestNetworks, 1, 5);

    /// <summary>
    /// The four reference networks at batch 1, 2 and 9: at 9 one kernel thread has 4 samples and the other 5 (one
    /// thread: all 9), so the convolutions that multiply several samples' columns at once (4 at 7×7, 2 at LeNet-5's
    /// 10×10) run full groups and a partial one.
    /// </summary>
    public static TheoryData<string, int> ReferenceNetworkCases => Cases(ReferenceNetworks, 1, 2, 9);

    /// <summary>
    /// Dense layers at the batch sizes that change how they are computed (on two threads): 6 samples of the MLP
    /// split its 784 → 256 layer by units (3 samples a thread are too few for the 4-sample kernel), 125 samples take
    /// the transposed product (62 and 63 samples a thread, padded to 64; one thread: 125, padded to 128).
    /// </summary>
    public static TheoryData<string, int> DenseCases => new()
    {
        { nameof(NumDenseChain), 125 }, { nameof(NumDenseWide), 125 }, { nameof(NumFlatJoins), 125 },
        { nameof(Mlp), 6 }, { nameof(Mlp), 125 },
    };

    internal static INetwork Create(string name) => name switch
    {
        nameof(NumDenseChain) => new NumDenseChain(),
        nameof(NumDenseWide) => new NumDenseWide(),
        nameof(NumFlatJoins) => new NumFlatJoins(),
        nameof(NumConvOdd) => new NumConvOdd(),
        nameof(NumConvSingleChannel) => new NumConvSingleChannel(),
        nameof(NumGroupedConv) => new NumGroupedConv(),
        nameof(NumDepthwise) => new NumDepthwise(),
        nameof(NumResidualConcat) => new NumResidualConcat(),
        nameof(NumPaddedPools) => new NumPaddedPools(),
        nameof(NumWideConv) => new NumWideConv(),
        nameof(NumExactTiles) => new NumExactTiles(),
        nameof(NumWinograd) => new NumWinograd(),
        nameof(NumWinograd4) => new NumWinograd4(),
        nameof(NumWinograd4Narrow) => new NumWinograd4Narrow(),
        nameof(NumStridedRows) => new NumStridedRows(),
        nameof(NumImplicitResidual) => new NumImplicitResidual(),
        nameof(NumWidePool) => new NumWidePool(),
        nameof(NumBroadcast) => new NumBroadcast(),
        nameof(NumBroadcastRows) => new NumBroadcastRows(),
        nameof(Mlp) => new Mlp(),
        nameof(LeNet5) => new LeNet5(),
        nameof(VggNet) => new VggNet(),
        nameof(TinyResNet) => new TinyResNet(),
        _ => throw new ArgumentException($"Unknown network '{name}'.", nameof(name)),
    };

    [Theory]
    [MemberData(nameof(TestNetworkCases))]
    public void TestNetworkMatchesScalarReference(string network, int batch) => CheckAgainstReference(network, batch, seed: 17);

    [Theory]
    [MemberData(nameof(ReferenceNetworkCases))]
    public void ReferenceNetworkMatchesScalarReference(string network, int batch) => CheckAgainstReference(network, batch, seed: 29);

    [Theory]
    [MemberData(nameof(DenseCases))]
    public void DenseLayersMatchScalarReferenceAtEverySplit(string network, int batch) => CheckAgainstReference(network, batch, seed: 41);

    /// <summary>
    /// The Winograd layers keep their transformed filters between calls and reuse them while the weights are unchanged:
    /// weights written in place, and a second network of the same class run in turn, must each be seen on the next call.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void WinogradLayersSeeEveryWeightChange(int batch)
    {
        var first = new VggNet();
        var second = new VggNet();
        Numerics.Randomize(first, 3);
        Numerics.Randomize(second, 4);
        var input = Numerics.RandomInput(batch * VggNet.InputSize, seed: 9);
        var ours = new float[batch * VggNet.OutputSize];
        void Check(VggNet net, string what)
        {
            net.Forward(input, ours, batch);
            Numerics.AssertClose(ours, ScalarReference.Forward(VggNet.Graph, net.Parameters, input, batch), $"VggNet batch {batch}, {what}");
        }

        Check(first, "first network");
        Check(second, "second network, same class");
        Check(first, "first network again");

        // One weight of each Winograd layer changed in place (conv1 has one input channel and is not Winograd).
        foreach (var name in new[] { "conv2.weight", "conv3.weight", "conv4.weight", "conv5.weight", "conv6.weight" })
        {
            first.Parameters[name].Data[7] += 0.5f;
        }

        Check(first, "after its weights changed in place");
    }

    [Fact]
    public void MaxPoolPaddingNeverWinsOnNegativeInput()
    {
        // All inputs negative: a padded tap taken as 0 instead of −∞ would win every border window.
        var net = new NumPaddedPools();
        var input = Numerics.RandomInput(3 * NumPaddedPools.InputSize, seed: 5, lo: -2, hi: -1);
        var ours = new float[3 * NumPaddedPools.OutputSize];
        net.Forward(input, ours, 3);
        Assert.All(ours, v => Assert.True(v < 0, $"pooled value {v} of an all-negative input is not negative"));
        Numerics.AssertClose(ours, ScalarReference.Forward(NumPaddedPools.Graph, net.Parameters, input, 3), "NumPaddedPools, negative input");
    }

    private void CheckAgainstReference(string name, int batch, int seed)
    {
        var net = Create(name);
        Numerics.Randomize(net, seed);

        // Run a larger batch of other data first, so the workspace holds stale values: a kernel that
        // relied on zeroed memory (accumulating into its output, skipping padded positions) would show.
        var before = batch + 1;
        net.Forward(Numerics.RandomInput(before * net.InputSize, seed + 1000), new float[before * net.OutputSize], before);

        var input = Numerics.RandomInput(batch * net.InputSize, seed + batch);
        var ours = new float[batch * net.OutputSize];
        net.Forward(input, ours, batch);
        var expected = ScalarReference.Forward(net.Graph, net.Parameters, input, batch);
        output.WriteLine($"{name} batch {batch} at SIMD level {Simd.Level}: {expected.Length} outputs checked");
        Numerics.AssertClose(ours, expected, $"{name} at batch {batch}, SIMD {Simd.Level}");
    }

    private static TheoryData<string, int> Cases(string[] networks, params int[] batches)
    {
        var data = new TheoryData<string, int>();
        foreach (var n in networks)
        {
            foreach (var b in batches)
            {
                data.Add(n, b);
            }
        }

        return data;
    }
}
