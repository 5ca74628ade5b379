namespace PruneGen.Generators.Tests;

/// <summary><c>[EmbeddedWeights]</c>: the generated <c>LoadEmbedded()</c>, and PG0037/PG0038 at their locations.</summary>
public class EmbeddedWeightsTests
{
    [Fact]
    public void OnANetwork_AddsLoadEmbedded_ThatCompiles()
    {
        var run = GeneratorHarness.Run(
            """
            using PruneGen;

            namespace App;

            [Network(4)]
            [Dense("fc", 2)]
            [EmbeddedWeights("App.Weights.tiny.safetensors")]
            internal partial class Tiny;

            internal static class Use
            {
                public static PruneGen.INetwork Load() => Tiny.LoadEmbedded();
            }
            """);
        Assert.True(run.GeneratorDiagnostics.IsEmpty, GeneratorRun.Format(run.GeneratorDiagnostics));
        Assert.True(run.OutputDiagnostics.IsEmpty, GeneratorRun.Format(run.OutputDiagnostics));
        var source = InferenceOnlyTests.EmbeddedSource(run, "Tiny");
        Assert.Contains("public const string EmbeddedWeightsResource = \"App.Weights.tiny.safetensors\";", source, StringComparison.Ordinal);
        Assert.Contains("Checkpoint.LoadResource(network, typeof(Tiny).Assembly, EmbeddedWeightsResource)", source, StringComparison.Ordinal);
    }

    [Fact]
    public void OnAPrunedNetwork_InAnInferenceOnlyCompilation_Compiles()
    {
        var compilation = GeneratorHarness.CompileInferenceOnly(PrunedNetworkHarness.Sources + "\n[EmbeddedWeights(\"small.safetensors\")]\npublic partial class Small;\n");
        var run = PrunedNetworkHarness.Run(compilation, new InMemoryAdditionalText(PrunedNetworkHarness.PlanPath, PrunedNetworkHarness.Plan));
        Assert.True(run.GeneratorDiagnostics.IsEmpty, GeneratorRun.Format(run.GeneratorDiagnostics));
        Assert.True(run.OutputDiagnostics.IsEmpty, GeneratorRun.Format(run.OutputDiagnostics));
        Assert.Contains("public static Small LoadEmbedded()", InferenceOnlyTests.EmbeddedSource(run, "Small"), StringComparison.Ordinal);
    }

    [Fact]
    public void OnAClassThatIsNotANetwork_IsPG0037_AtTheAttribute()
    {
        var source = """
            using PruneGen;

            [EmbeddedWeights("w.safetensors")]
            public partial class Plain;
            """;
        var run = GeneratorHarness.Run(source);
        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("PG0037", d.Id);
        Assert.Equal("EmbeddedWeights(\"w.safetensors\")", Text(source, d));
        Assert.Contains("'Plain' is not a network", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Empty(run.GeneratedSources);
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("\"  \"")]
    [InlineData("\" w.safetensors\"")]
    [InlineData("null")]
    public void ABlankOrPaddedResourceName_IsPG0038_AtTheArgument(string argument)
    {
        var source = $$"""
            using PruneGen;

            [Network(4)]
            [Dense("fc", 2)]
            [EmbeddedWeights({{argument}})]
            public partial class Net;
            """;
        var run = GeneratorHarness.Run(source);
        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("PG0038", d.Id);
        Assert.Equal(argument, Text(source, d));
        Assert.Contains("EmbeddedResource", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.DoesNotContain(run.GeneratedSources, s => s.HintName.Contains("EmbeddedWeights", StringComparison.Ordinal));
    }

    [Fact]
    public void OnANetworkThatIsNotPartial_OnlyTheNetworkErrorIsReported()
    {
        var run = GeneratorHarness.Run(
            """
            using PruneGen;

            [Network(4)]
            [Dense("fc", 2)]
            [EmbeddedWeights("w.safetensors")]
            public class Whole;
            """);
        Assert.Equal("PG0001", Assert.Single(run.GeneratorDiagnostics).Id);
        Assert.Empty(run.GeneratedSources);
    }

    private static string Text(string source, Microsoft.CodeAnalysis.Diagnostic d) =>
        source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length);
}
