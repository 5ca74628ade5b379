using PruneGen.Examples.Networks;
using PruneGen.Onnx;

namespace PruneGen.Tests.Onnx;

/// <summary>
/// ONNX Runtime as an independent oracle for forward numerics: every network is exported with random
/// weights and non-trivial BatchNorm statistics, run in ORT and through its generated Forward, and the
/// outputs must agree element by element.
/// </summary>
[Trait("Category", "Onnx")]
public class OnnxOracleTests
{
    private static readonly Dictionary<string, Func<INetwork>> Networks = new()
    {
        [nameof(Mlp)] = () => new Mlp(),
        [nameof(LeNet5)] = () => new LeNet5(),
        [nameof(VggNet)] = () => new VggNet(),
        [nameof(TinyResNet)] = () => new TinyResNet(),
        [nameof(OnnxKindsNet)] = () => new OnnxKindsNet(),
        [nameof(OnnxFlatNet)] = () => new OnnxFlatNet(),
        [nameof(OnnxNameClashNet)] = () => new OnnxNameClashNet(),
        [nameof(OnnxOddShapesNet)] = () => new OnnxOddShapesNet(),
    };

    public static TheoryData<string> NetworkNames => new(Networks.Keys);

    /// <summary>Batch 1 and batch 5 (the batch dimension is symbolic, so one model serves both).</summary>
    [Theory]
    [MemberData(nameof(NetworkNames))]
    public void ExportedModelMatchesGeneratedForward(string name) => AssertMatches(name, 1, 5);

    /// <summary>
    /// Batches of 9 and 17 on the cheaper networks: more rows than one block of the dense layers' GEMM
    /// micro-kernel, plus a remainder.
    /// </summary>
    [Theory]
    [InlineData(nameof(Mlp))]
    [InlineData(nameof(LeNet5))]
    [InlineData(nameof(OnnxKindsNet))]
    [InlineData(nameof(OnnxFlatNet))]
    [InlineData(nameof(OnnxOddShapesNet))]
    public void LargerBatchesMatch(string name) => AssertMatches(name, 9, 17);

    private static void AssertMatches(string name, params int[] batches)
    {
        var network = Networks[name]();
        var seed = name.Aggregate(17, (hash, c) => unchecked((hash * 31) + c)) & 0xFFFF;
        OrtOracle.Randomize(network, seed);
        using var session = OrtOracle.CreateSession(OnnxExporter.Export(network));
        foreach (var batch in batches)
        {
            var input = OrtOracle.RandomArray(batch * network.InputSize, seed + batch);
            var expected = OrtOracle.Run(session, network.Graph, input, batch);
            var actual = OrtOracle.Forward(network, input, batch);
            OrtOracle.AssertClose(expected, actual, $"{name}, batch {batch}");
        }
    }

    /// <summary>The export reads the parameters' current values: changing a weight after one export changes the next.</summary>
    [Fact]
    public void ExportReflectsTheCurrentWeights()
    {
        INetwork network = new OnnxFlatNet();
        OrtOracle.Randomize(network, 3);
        var input = OrtOracle.RandomArray(2 * network.InputSize, 4);
        using var before = OrtOracle.CreateSession(OnnxExporter.Export(network));
        var first = OrtOracle.Run(before, network.Graph, input, 2);

        OrtOracle.Randomize(network, 5);
        using var after = OrtOracle.CreateSession(OnnxExporter.Export(network));
        var second = OrtOracle.Run(after, network.Graph, input, 2);

        Assert.NotEqual(first, second);
        OrtOracle.AssertClose(second, OrtOracle.Forward(network, input, 2), "OnnxFlatNet after re-randomizing");
    }

    /// <summary>
    /// Softmax must not overflow: ONNX Runtime (like PyTorch) subtracts the row maximum before exponentiating.
    /// Without it a logit above ≈ 88.7 (e^x overflows float) or a row whose logits are all below
    /// ≈ −103.9 (every e^x underflows to 0) comes out as NaN (the bug this test found).
    /// </summary>
    [Fact]
    public void SoftmaxIsStableForLargeLogits()
    {
        INetwork network = new OnnxSoftmaxNet();
        var weight = network.Parameters["fc.weight"].Data;
        Array.Clear(weight);
        weight[0] = weight[4] = weight[8] = 1f; // identity: the logits are the inputs
        float[] input = [89f, 0f, 0f, 1000f, 999f, 0f, -105f, -105f, -105f, -1000f, -1001f, -1002f, 50f, 51f, 52f];
        using var session = OrtOracle.CreateSession(OnnxExporter.Export(network));

        var expected = OrtOracle.Run(session, network.Graph, input, 5);
        OrtOracle.AssertClose(expected, OrtOracle.Forward(network, input, 5), "softmax of large logits");
    }
}
