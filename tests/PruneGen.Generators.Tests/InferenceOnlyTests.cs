namespace PruneGen.Generators.Tests;

/// <summary>
/// A compilation that references only PruneGen.Runtime (no training runtime) gets inference-only networks:
/// <c>INetwork</c>, constants, metadata, parameters and <c>Forward</c>; no <c>TrainForward</c>/<c>Backward</c>.
/// The deployable sample's network (the VGG of the examples pruned by its L1 2× plan, with embedded weights)
/// is the snapshot.
/// </summary>
public class InferenceOnlyTests
{
    private static readonly string ExamplesDirectory = Path.Combine(Snapshot.RepositoryRoot, "examples", "PruneGen.Examples");

    private const string Pruned = """
        using PruneGen;

        namespace PruneGen.Examples.Networks;

        [PrunedNetwork(typeof(VggNet), "Pruned/Plans/vgg.l1.2x.plan.json")]
        [EmbeddedWeights("VggNetL1Half.safetensors")]
        public partial class VggNetL1Half;
        """;

    [Fact]
    public void PrunedVgg_InferenceOnly_MatchesSnapshot_AndCompilesAgainstTheRuntimeAlone()
    {
        var run = RunVgg(inferenceOnly: true);
        Assert.Null(run.Result.Exception);
        Assert.True(run.GeneratorDiagnostics.IsEmpty, GeneratorRun.Format(run.GeneratorDiagnostics));
        Assert.True(run.OutputDiagnostics.IsEmpty, GeneratorRun.Format(run.OutputDiagnostics));
        var source = run.Source("VggNetL1Half");
        Snapshot.Verify("VggNetL1HalfInference", source);
        Snapshot.Verify("VggNetL1HalfEmbeddedWeights", EmbeddedSource(run, "VggNetL1Half"));
    }

    [Fact]
    public void InferenceOnly_EmitsNoTrainingMembers_ForPlainAndPrunedNetworks()
    {
        var run = RunVgg(inferenceOnly: true);
        foreach (var name in new[] { "VggNet", "VggNetL1Half" })
        {
            var source = Code(run.Source(name));
            Assert.Contains("partial class " + name + " : global::PruneGen.INetwork", source, StringComparison.Ordinal);
            Assert.Contains("public void Forward(", source, StringComparison.Ordinal);
            foreach (var training in new[] { "ITrainableNetwork", "TrainForward", "Backward", "TrainingActivation", "_trainingWorkspace", "DropoutState", "BatchNormMomentum" })
            {
                Assert.DoesNotContain(training, source, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void WithTheTrainingRuntime_TheSameNetworksAreTrainable()
    {
        var run = RunVgg(inferenceOnly: false);
        Assert.True(run.OutputDiagnostics.IsEmpty, GeneratorRun.Format(run.OutputDiagnostics));
        foreach (var name in new[] { "VggNet", "VggNetL1Half" })
        {
            var source = run.Source(name);
            Assert.Contains("partial class " + name + " : global::PruneGen.ITrainableNetwork", source, StringComparison.Ordinal);
            Assert.Contains("public void Backward(", source, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void TheForwardPassIsTheSameInBothModes()
    {
        static string Forward(string source)
        {
            var start = source.IndexOf("    public void Forward(", StringComparison.Ordinal);
            var end = source.IndexOf("\n    }\n", start, StringComparison.Ordinal);
            return source[start..end];
        }

        var inference = RunVgg(inferenceOnly: true).Source("VggNetL1Half");
        var training = RunVgg(inferenceOnly: false).Source("VggNetL1Half");
        Assert.Equal(Forward(training), Forward(inference));
    }

    [Fact]
    public void InvalidDeclaration_InferenceOnlySurface_Compiles()
    {
        var compilation = GeneratorHarness.CompileInferenceOnly(
            """
            using PruneGen;

            [Network(1, 8, 8)]
            [Dense("fc", 10)]
            public partial class Broken;
            """);
        var run = GeneratorHarness.Run(compilation);
        Assert.Equal("PG0011", Assert.Single(run.GeneratorDiagnostics).Id);
        Assert.True(run.OutputDiagnostics.IsEmpty, GeneratorRun.Format(run.OutputDiagnostics));
        Assert.DoesNotContain("TrainForward", Code(run.Source("Broken")), StringComparison.Ordinal);
    }

    /// <summary>The examples' VggNet declaration and the pruned class, with the examples' plan, in either reference set.</summary>
    private static GeneratorRun RunVgg(bool inferenceOnly)
    {
        var vgg = File.ReadAllText(Path.Combine(ExamplesDirectory, "Networks", "VggNet.cs"));
        var planPath = Path.Combine(ExamplesDirectory, "Pruned", "Plans", "vgg.l1.2x.plan.json");
        var compilation = inferenceOnly
            ? GeneratorHarness.CompileInferenceOnly(vgg, Pruned)
            : GeneratorHarness.Compile(vgg, Pruned);
        return PrunedNetworkHarness.Run(compilation, new InMemoryAdditionalText(planPath, File.ReadAllText(planPath)));
    }

    /// <summary>The code without its comment lines (the header says what was left out, by name).</summary>
    private static string Code(string source) =>
        string.Join('\n', source.Split('\n').Where(l => !l.TrimStart().StartsWith("//", StringComparison.Ordinal)));

    internal static string EmbeddedSource(GeneratorRun run, string className) =>
        run.GeneratedSources.Single(s => s.HintName.EndsWith("." + className + ".PruneGen.EmbeddedWeights.g.cs", StringComparison.Ordinal) || s.HintName == className + ".PruneGen.EmbeddedWeights.g.cs")
            .SourceText.ToString();
}
