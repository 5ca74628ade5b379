using PruneGen.Model;
using PruneGen.Model.Pruning;
using PruneGen.Pruning;
using PruneGen.Tests.Reference;
using static PruneGen.Tests.Pruning.PruningTestSupport;

namespace PruneGen.Tests.Pruning;

/// <summary>Every criterion on small cases whose scores are computed by hand (or, for the data-driven ones, by the double-precision reference).</summary>
public sealed class ImportanceTests
{
    // PrTiny: fc1 (4×3), logits (2×4). Groups: input, fc1, logits.
    private static readonly float[] Fc1 = [1, -2, 0, 0.5f, 0.5f, 0.5f, 0, 0, -3, -1, 1, 0.5f];
    private static readonly float[] Fc1Bias = [0.1f, -0.2f, 0.3f, 0];
    private static readonly float[] Logits = [1, 0, -1, 2, -1, 3, 0, 0];

    private static INetwork Tiny()
    {
        INetwork net = new PrTiny();
        Fc1.CopyTo(net.Parameters["fc1.weight"].Data, 0);
        Fc1Bias.CopyTo(net.Parameters["fc1.bias"].Data, 0);
        Logits.CopyTo(net.Parameters["logits.weight"].Data, 0);
        net.Parameters["logits.bias"].Data[0] = 0.25f;
        return net;
    }

    private static float[]?[] Score(Importance criterion, INetwork network, GroupReduction reduction = GroupReduction.Mean, PruneGen.Data.Dataset? calibration = null, ulong seed = 1) =>
        criterion.Score(new ImportanceContext(network, calibration, calibrationBatches: 2, batchSize: 4, reduction: reduction, seed: seed));

    private static void AssertScores(double[] expected, float[]? actual, double tolerance = 1e-6)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"channel {i}: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }

    [Theory]
    [InlineData(GroupReduction.Mean, new[] { 2.5, 2.25, 2, 2.25 })]
    [InlineData(GroupReduction.Sum, new[] { 5, 4.5, 4, 4.5 })]
    [InlineData(GroupReduction.Max, new[] { 3, 3, 3, 2.5 })]
    public void L1SumsAbsoluteWeightsOfFiltersAndConsumerColumnsNotBiases(GroupReduction reduction, double[] expected)
    {
        // Σ|fc1 row c| = 3, 1.5, 3, 2.5; Σ|logits column c| = 2, 3, 1, 2.
        var scores = Score(Importance.L1, Tiny(), reduction);
        Assert.Null(scores[0]); // input
        AssertScores(expected, scores[1]);
        Assert.Null(scores[2]); // output
    }

    [Fact]
    public void L2TakesTheNormOfEachTensorSliceThenTheMean()
    {
        double[] rows = [Math.Sqrt(5), Math.Sqrt(0.75), 3, 1.5];
        double[] columns = [Math.Sqrt(2), 3, 1, 2];
        AssertScores([.. rows.Zip(columns, (a, b) => (a + b) / 2)], Score(Importance.L2, Tiny())[1]);
    }

    [Fact]
    public void BatchNormScaleIsTheAbsoluteGammaAndSkipsGroupsWithoutBatchNorm()
    {
        INetwork net = new PrVgg();
        Numerics.Numerics.Randomize(net, 1);
        float[] gamma = [0.5f, -2, 1, 0, 3, -0.1f];
        gamma.CopyTo(net.Parameters["bn1.weight"].Data, 0);
        var scores = Score(Importance.BatchNormScale, net);
        AssertScores([0.5, 2, 1, 0, 3, 0.1], scores[1]);
        AssertScores([.. net.Parameters["bn2.weight"].Data.Select(v => (double)Math.Abs(v))], scores[2]);
        Assert.Null(scores[3]); // fc1: no BatchNorm
        Assert.Null(scores[0]);
        Assert.Null(scores[4]);
    }

    [Theory]
    [InlineData(GroupReduction.Mean, new[] { 2.0, 1, 2, 6 })]
    [InlineData(GroupReduction.Sum, new[] { 4.0, 2, 4, 12 })]
    [InlineData(GroupReduction.Max, new[] { 3.0, 2, 3, 8 })]
    public void BatchNormScaleReducesOverTheBatchNormsOfAResidualGroup(GroupReduction reduction, double[] expected)
    {
        INetwork net = new PrResNet();
        Numerics.Numerics.Randomize(net, 1);
        float[] stem = [1, 2, 3, 4];
        float[] branch = [-3, 0, 1, 8];
        stem.CopyTo(net.Parameters["stem_bn.weight"].Data, 0);
        branch.CopyTo(net.Parameters["b1.bn2.weight"].Data, 0);
        var groups = ChannelGroups.Analyze(net.Graph);
        var scores = Score(Importance.BatchNormScale, net, reduction);
        AssertScores(expected, scores[groups.Select(g => g.Name).ToList().IndexOf("stem")]);
    }

    [Fact]
    public void FpgmSumsEachFiltersDistanceToTheOthers()
    {
        var net = Tiny();
        float[] filters = [0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        filters.CopyTo(net.Parameters["fc1.weight"].Data, 0);
        AssertScores([6, 1 + Math.Sqrt(5) + Math.Sqrt(10), 2 + Math.Sqrt(5) + Math.Sqrt(13), 3 + Math.Sqrt(10) + Math.Sqrt(13)], Score(Importance.Fpgm, net)[1], 1e-5);
    }

    [Fact]
    public void RandomScoresAreSeededUniformAndOnlyForPrunableGroups()
    {
        INetwork net = new PrVgg();
        var a = Score(Importance.Random, net, seed: 3);
        var b = Score(Importance.Random, net, seed: 3);
        var c = Score(Importance.Random, net, seed: 4);
        Assert.Equal([false, true, true, true, false], a.Select(s => s is not null));
        for (var g = 1; g <= 3; g++)
        {
            Assert.Equal(a[g], b[g]);
            Assert.NotEqual(a[g], c[g]);
            Assert.All(a[g]!, v => Assert.InRange(v, 0f, 0.99999994f));
            Assert.True(a[g]!.Distinct().Count() == a[g]!.Length, "scores are distinct");
        }
    }

    [Fact]
    public void TaylorIsTheSquaredWeightGradientDotProductAveragedOverBatches()
    {
        var net = Tiny();
        var data = RandomDataset(net, 8, 21);
        var before = Snapshot(net);
        var scores = Score(Importance.Taylor, net, calibration: data);

        // By hand with the double reference: per batch, per tensor slice, (Σ w·∂L/∂w)² for the mean cross-entropy.
        var perTensor = new double[3][];
        for (var t = 0; t < 3; t++)
        {
            perTensor[t] = new double[4];
        }

        for (var batch = 0; batch < 2; batch++)
        {
            var reference = new DoubleReference(net.Graph, net.Parameters);
            var x = data.Images.AsSpan(batch * 12, 12).ToArray().Select(v => (double)v).ToArray();
            var z = reference.Forward(x, 4, training: true);
            var dz = new double[8];
            for (var n = 0; n < 4; n++)
            {
                var label = data.Labels[(batch * 4) + n];
                var max = Math.Max(z[2 * n], z[(2 * n) + 1]);
                var e0 = Math.Exp(z[2 * n] - max);
                var e1 = Math.Exp(z[(2 * n) + 1] - max);
                dz[2 * n] = ((e0 / (e0 + e1)) - (label == 0 ? 1 : 0)) / 4;
                dz[(2 * n) + 1] = ((e1 / (e0 + e1)) - (label == 1 ? 1 : 0)) / 4;
            }

            reference.Backward(dz);
            var w = reference.Parameters;
            var g = reference.Gradients;
            for (var c = 0; c < 4; c++)
            {
                var row = Enumerable.Range(0, 3).Sum(k => w["fc1.weight"][(c * 3) + k] * g["fc1.weight"][(c * 3) + k]);
                var bias = w["fc1.bias"][c] * g["fc1.bias"][c];
                var column = Enumerable.Range(0, 2).Sum(o => w["logits.weight"][(o * 4) + c] * g["logits.weight"][(o * 4) + c]);
                perTensor[0][c] += row * row / 2;
                perTensor[1][c] += bias * bias / 2;
                perTensor[2][c] += column * column / 2;
            }
        }

        var expected = Enumerable.Range(0, 4).Select(c => perTensor.Average(t => t[c])).ToArray();
        Assert.True(expected.Max() > 1e-6, "the hand case has non-trivial gradients");
        AssertScores(expected, scores[1], 1e-4);

        // Scoring leaves the network as it was: weights untouched, gradients cleared.
        Assert.Equal(before, Snapshot(net));
        Assert.All(net.Parameters, p => Assert.All(p.Gradient, v => Assert.Equal(0f, v)));
    }

    [Theory]
    [InlineData("activation")]
    [InlineData("apoz")]
    public void ActivationCriteriaAverageThePostActivationValuesOrTheirNonZeroFraction(string name)
    {
        // Needs ITrainableNetwork.TrainingActivation.
        var net = Tiny();
        Fc1Bias.Select(b => b - 0.2f).ToArray().CopyTo(net.Parameters["fc1.bias"].Data, 0);
        var data = RandomDataset(net, 8, 22);
        var scores = Score(Importance.Parse(name), net, calibration: data);

        var reference = new DoubleReference(net.Graph, net.Parameters);
        reference.Forward([.. data.Images.Select(v => (double)v)], 8, training: true);
        var relu = reference.LayerOutputs[net.Graph.Find("relu1")!.Index];
        var expected = Enumerable.Range(0, 4).Select(c => Enumerable.Range(0, 8).Average(n => name == "apoz" ? (relu[(n * 4) + c] != 0 ? 1.0 : 0) : relu[(n * 4) + c])).ToArray();
        Assert.Contains(expected, v => v is > 0 and < 1); // some channel is zero on some samples only
        AssertScores(expected, scores[1], 1e-5);
    }

    [Fact]
    public void DataDrivenCriteriaWithoutCalibrationDataSaySo()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Score(Importance.Taylor, Tiny()));
        Assert.Equal("The taylor criterion is data-driven: pass calibration data (e.g. a slice of the training set) to the ImportanceContext.", e.Message);
        Assert.True(Importance.Taylor.IsDataDriven);
        Assert.False(Importance.L1.IsDataDriven);
    }

    [Theory]
    [InlineData(GroupReduction.Mean, new[] { 2.0, 3 })]
    [InlineData(GroupReduction.Sum, new[] { 6.0, 9 })]
    [InlineData(GroupReduction.Max, new[] { 5.0, 4 })]
    public void GroupReductionsCombinePerTensorScores(GroupReduction reduction, double[] expected)
    {
        var context = new ImportanceContext(Tiny(), reduction: reduction);
        AssertScores(expected, context.Reduce([[1, 4], [5, 1], [0, 4]], 2));
        Assert.Equal([0f, 0f], context.Reduce([], 2));
    }

    [Fact]
    public void ParseKnowsEveryCriterionCaseInsensitivelyAndListsThemOtherwise()
    {
        Assert.Equal(["l1", "l2", "bn", "taylor", "fpgm", "activation", "apoz", "random"], Importance.All.Select(c => c.Name));
        Assert.All(Importance.All, c => Assert.Same(c, Importance.Parse(c.Name.ToUpperInvariant())));
        var e = Assert.Throws<ArgumentException>(() => Importance.Parse("l3"));
        Assert.Equal("name", e.ParamName);
        Assert.StartsWith("Unknown importance criterion 'l3'. Known criteria: l1, l2, bn, taylor, fpgm, activation, apoz, random.", e.Message);
    }
}
