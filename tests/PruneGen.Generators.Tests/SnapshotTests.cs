namespace PruneGen.Generators.Tests;

/// <summary>
/// The generated code, compared with checked-in snapshots (see <see cref="Snapshot"/>): the four
/// reference networks read from examples/PruneGen.Examples/Networks, a network using every layer kind,
/// and the surface emitted for an invalid declaration. Each must also compile without errors or warnings.
/// </summary>
public class SnapshotTests
{
    private static readonly string[] ReferenceNetworkNames = { "LeNet5", "Mlp", "TinyResNet", "VggNet" };

    public static TheoryData<string> ReferenceNetworks => new(ReferenceNetworkNames);

    [Theory]
    [MemberData(nameof(ReferenceNetworks))]
    public void ReferenceNetwork(string name)
    {
        var path = Path.Combine(ExamplesDirectory, name + ".cs");
        var run = GeneratorHarness.Run(GeneratorHarness.Compile(GeneratorHarness.Parse(File.ReadAllText(path), path)));
        Snapshot.Verify(name, Generated(run, name));
    }

    [Fact]
    public void EveryReferenceNetworkHasASnapshotTest()
    {
        var files = Directory.GetFiles(ExamplesDirectory, "*.cs").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal);
        Assert.Equal(ReferenceNetworkNames.Order(StringComparer.Ordinal), files);
    }

    [Fact]
    public void AllLayerKinds()
    {
        var run = GeneratorHarness.Run(
            """
            using PruneGen;

            namespace Snapshots;

            [Network(4, 12, 12)]
            [Conv2D("stem", 8, 3, Padding = 1, Bias = false), BatchNorm("stem_bn"), LeakyReLU(0.1)]
            [DepthwiseConv2D("dw", 3, Multiplier = 2, Padding = 1), Conv2D("pw", 8, 1, Groups = 4)]
            [Conv2D("branch", 8, 3, Padding = 1, Input = "stem_bn"), Tanh]
            [Add("sum", "pw", "stem_bn")]
            [Concat("cat", "branch"), AvgPool2D(3, Stride = 2, Padding = 1), MaxPool2D(2, Stride = 1)]
            [ResidualBlock("res", 16, Stride = 2), GlobalAvgPool]
            [Dense("fc", 32, Bias = false), BatchNorm("fc_bn"), Sigmoid, Dropout(0.25)]
            [Dense("head_a", 5), Dense("head_b", 5, Input = "fc_bn"), Concat("heads", "head_a", "head_b"), Softmax]
            public partial class AllLayerKinds;
            """);
        Snapshot.Verify(nameof(AllLayerKinds), Generated(run, nameof(AllLayerKinds)));
    }

    [Fact]
    public void InvalidDeclarationSurface()
    {
        var run = GeneratorHarness.Run(
            """
            using PruneGen;

            namespace Snapshots;

            [Network(1, 8, 8)]
            [Dense("fc", 10)]
            public partial class InvalidDeclarationSurface;
            """);
        Assert.Equal("PG0011", Assert.Single(run.GeneratorDiagnostics).Id);
        Assert.True(run.OutputDiagnostics.IsEmpty, GeneratorRun.Format(run.OutputDiagnostics));
        Snapshot.Verify(nameof(InvalidDeclarationSurface), run.Source(nameof(InvalidDeclarationSurface)));
    }

    private static string ExamplesDirectory => Path.Combine(Snapshot.RepositoryRoot, "examples", "PruneGen.Examples", "Networks");

    /// <summary>The one generated source, after checking that generation and its compilation were clean.</summary>
    private static string Generated(GeneratorRun run, string className)
    {
        Assert.Null(run.Result.Exception);
        Assert.True(run.GeneratorDiagnostics.IsEmpty, GeneratorRun.Format(run.GeneratorDiagnostics));
        Assert.True(run.OutputDiagnostics.IsEmpty, GeneratorRun.Format(run.OutputDiagnostics));
        return run.Source(className);
    }
}
