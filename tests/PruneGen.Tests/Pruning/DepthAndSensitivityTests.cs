using PruneGen.Model.Pruning;
using PruneGen.Pruning;
using PruneGen.Tests.Reference;
using PruneGen.Training;
using static PruneGen.Tests.Pruning.PruningTestSupport;

namespace PruneGen.Tests.Pruning;

/// <summary>Depth pruning (block scores and selection) and sensitivity analysis.</summary>
public sealed class DepthAndSensitivityTests
{
    [Fact]
    public void SelectTakesTheLeastImportantRemovableBlocks()
    {
        DepthScore[] scores =
        [
            new("b1", null, 0.3, 0.5),
            new("b2", "it projects", double.NaN, double.NaN),
            new("b3", null, 0.1, 0.9),
            new("b4", null, 0.2, 0.1),
        ];
        Assert.Equal(["b3", "b4"], BlockPruning.Select(scores, 2));
        Assert.Equal(["b1", "b4"], BlockPruning.Select(scores, 2, BlockCriterion.LossIncrease));
        Assert.Empty(BlockPruning.Select(scores, 0));
        var e = Assert.Throws<InvalidOperationException>(() => BlockPruning.Select(scores, 4));
        Assert.Equal("Asked to remove 4, but only 3 can be removed (b1, b3, b4): it projects.", e.Message);
    }

    [Fact]
    public void BlockScoresAreInfluenceAndMeasuredLossIncrease()
    {
        // Needs ITrainableNetwork.TrainingActivation.
        var net = new PrResNet();
        Numerics.Numerics.Randomize(net, 1);
        var data = RandomDataset(net, 16, 2);
        var before = Snapshot(net);
        var scores = BlockPruning.Score(net, data, batches: 2, batchSize: 8);
        Assert.Equal(before, Snapshot(net));

        Assert.Equal(["b1", "b2", "b3"], scores.Select(s => s.Name));
        Assert.False(scores[1].Removable);
        Assert.True(double.IsNaN(scores[1].LossIncrease));

        var baseLoss = Trainer.Evaluate(net, data, 8).Loss;
        var blocks = ResidualBlocks.Analyze(PrResNet.Graph);
        foreach (var k in new[] { 0, 2 })
        {
            // Loss increase: the loss with the block's residual BatchNorm silenced, minus the loss with it.
            var b = blocks[k];
            var silenced = new PrResNet();
            before.Select((d, i) => (d, i)).ToList().ForEach(x => x.d.CopyTo(silenced.Parameters[x.i].Data, 0));
            Array.Clear(silenced.Parameters[b.ResidualNorm + ".weight"].Data);
            Array.Clear(silenced.Parameters[b.ResidualNorm + ".bias"].Data);
            Assert.Equal(Trainer.Evaluate(silenced, data, 8).Loss - baseLoss, scores[k].LossIncrease, 1e-5);

            // Influence: 1 − mean cosine of the block's input and output per sample, in training mode, per batch.
            double cosines = 0;
            for (var batch = 0; batch < 2; batch++)
            {
                var reference = new DoubleReference(PrResNet.Graph, net.Parameters);
                reference.Forward([.. data.Images.AsSpan(batch * 8 * 64, 8 * 64).ToArray().Select(v => (double)v)], 8, training: true);
                var x = reference.LayerOutputs[b.InputLayer];
                var y = reference.LayerOutputs[b.OutputLayer];
                var size = x.Length / 8;
                for (var n = 0; n < 8; n++)
                {
                    var xs = x.AsSpan(n * size, size).ToArray();
                    var ys = y.AsSpan(n * size, size).ToArray();
                    cosines += xs.Zip(ys, (p, q) => p * q).Sum() / Math.Sqrt(xs.Sum(v => v * v) * ys.Sum(v => v * v));
                }
            }

            Assert.Equal(1 - (cosines / 16), scores[k].Influence, 1e-4);
        }
    }

    [Fact]
    public void SensitivityPrunesEachGroupAloneAndRestoresTheWeights()
    {
        INetwork net = new PrVgg();
        Numerics.Numerics.Randomize(net, 3);
        var data = RandomDataset(net, 32, 4);
        var before = Snapshot(net);
        var reported = new List<SensitivityPoint>();
        var points = Sensitivity.Analyze(net, Importance.L1, data, [0, 0.5], progress: reported.Add);

        Assert.Equal(points, reported);
        Assert.Equal(before, Snapshot(net));
        Assert.Equal(["conv1", "conv1", "conv2", "conv2", "fc1", "fc1"], points.Select(p => p.Group));
        var baseAccuracy = Trainer.Evaluate(net, data).Accuracy;
        Assert.All(points.Where(p => p.Ratio == 0), p => Assert.Equal((baseAccuracy, PrVgg.Graph.TotalMacs), (p.Accuracy, p.Macs)));

        // Half of one group: conv1 6 → 3, conv2 8 → 4, fc1 10 → 5; the others whole.
        var half = points.Where(p => p.Ratio == 0.5).Select(p => p.Macs).ToArray();
        Assert.Equal(
            [
                Allocator.PrunedGraph(PrVgg.Graph, Plan(net, ("conv1", [0, 1, 2]))).TotalMacs,
                Allocator.PrunedGraph(PrVgg.Graph, Plan(net, ("conv2", [0, 1, 2, 3]))).TotalMacs,
                Allocator.PrunedGraph(PrVgg.Graph, Plan(net, ("fc1", [0, 1, 2, 3, 4]))).TotalMacs,
            ],
            half);
    }
}
