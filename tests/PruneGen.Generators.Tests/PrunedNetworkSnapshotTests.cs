namespace PruneGen.Generators.Tests;

/// <summary>
/// The generated code of a pruned residual network (narrowed groups and a removed block), compared with
/// its checked-in snapshot (see <see cref="Snapshot"/>); it must compile without errors or warnings.
/// </summary>
public class PrunedNetworkSnapshotTests
{
    public const string Sources = """
        using PruneGen;

        namespace Snapshots;

        [Network(1, 8, 8)]
        [Conv2D("stem", 8, 3, Padding = 1, Bias = false), BatchNorm("stem_bn"), ReLU]
        [ResidualBlock("b1", 8), ResidualBlock("b2", 8)]
        [ResidualBlock("b3", 16, Stride = 2)]
        [GlobalAvgPool]
        [Dense("logits", 4)]
        public partial class ResBase;

        /// <summary>ResBase without block b2, narrower everywhere else.</summary>
        [PrunedNetwork(typeof(ResBase), "plans/res.plan.json")]
        public partial class PrunedResNet;
        """;

    public const string Plan = """
        {
          "format": "prunegen.plan",
          "version": 1,
          "network": "ResBase",
          "criterion": "l1",
          "seed": 7,
          "groups": [
            { "name": "stem", "channels": 8, "kept": [0, 1, 2, 4, 5, 7] },
            { "name": "b1.conv1", "channels": 8, "kept": [1, 3, 5, 7] },
            { "name": "b3.conv1", "channels": 16, "kept": [0, 1, 2, 3, 8, 9, 10, 11] }
          ],
          "removedBlocks": ["b2"]
        }
        """;

    [Fact]
    public void PrunedResidualNetwork()
    {
        var run = PrunedNetworkHarness.Run(Sources, new InMemoryAdditionalText("/repo/Snapshots/plans/res.plan.json", Plan));
        Assert.Null(run.Result.Exception);
        Assert.True(run.GeneratorDiagnostics.IsEmpty, GeneratorRun.Format(run.GeneratorDiagnostics));
        Assert.True(run.OutputDiagnostics.IsEmpty, GeneratorRun.Format(run.OutputDiagnostics));
        Snapshot.Verify("PrunedResNet", run.Source("PrunedResNet"));
    }
}
