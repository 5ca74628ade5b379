using System.Globalization;
using Microsoft.CodeAnalysis;
using PruneGen.Generators.Analyzers;
using PruneGen.Generators.Diagnostics;

namespace PruneGen.Generators.Tests;

/// <summary><see cref="LayerAttributeUsageAnalyzer"/>: PG0016 at every layer, budget or shape-check attribute of a class without <c>[Network]</c>.</summary>
public class AnalyzerTests
{
    private const string Prologue = "using PruneGen;\n\nnamespace App;\n\n";

    [Fact]
    public void LayerAttributesWithoutNetwork_AreReportedAtEachAttribute()
    {
        var diagnostics = AssertReported(
            """
            [[|Dense("fc1", 16)|], [|ReLU|]]
            [[|Dense("fc2", 2)|]]
            public partial class Forgotten;
            """);
        Assert.Contains("[Dense]", diagnostics[0].GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Contains("[ReLU]", diagnostics[1].GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        foreach (var d in diagnostics)
        {
            var message = d.GetMessage(CultureInfo.InvariantCulture);
            Assert.Contains("'Forgotten'", message, StringComparison.Ordinal);
            Assert.Contains("not a network", message, StringComparison.Ordinal);
            Assert.Contains("Add [Network(...)]", message, StringComparison.Ordinal);
            Assert.Contains("or remove the layer attributes", message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void BudgetAttributesWithoutNetwork_AreReportedAtEachAttribute()
    {
        var diagnostics = AssertReported(
            """
            [[|MaxMacs(1_000)|], [|MaxParameters(10)|], [|MaxActivationMemory(100)|]]
            [[|ExpectShape("fc", 2)|]]
            public class Forgotten;
            """);
        Assert.Equal(
            "Attribute [MaxMacs] on 'Forgotten' checks nothing: 'Forgotten' is not a network. Add [Network(...)] with the input shape and the layer attributes to the class (and make it partial), or remove [MaxMacs].",
            diagnostics[0].GetMessage(CultureInfo.InvariantCulture));
        Assert.Contains("remove [ExpectShape]", diagnostics[3].GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void CustomLayerAttributeWithoutNetwork_IsReported()
    {
        var d = Assert.Single(AssertReported(
            """
            [[|Gelu|]]
            public class Forgotten;

            public sealed class GeluAttribute : UnnamedLayerAttribute;
            """));
        Assert.Contains("[Gelu]", d.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""[Network(4)][Dense("fc", 2)] public partial class Net;""")]
    [InlineData("""[Network(4)] public partial class EmptyNet;""")]
    [InlineData("""[Network(4), MaxMacs(100), ExpectShape("fc", 2)][Dense("fc", 2)] public partial class Budgeted;""")]
    [InlineData("""[System.Obsolete("old")] public class Plain;""")]
    [InlineData("""public class NoAttributes { [System.Obsolete] public void M() { } }""")]
    [InlineData("""public sealed class MyAttribute : System.Attribute; [My] public class Other;""")]
    public void NetworksAndOtherAttributes_AreNotReported(string source) => AssertReported(source);

    [Fact]
    public void LayerAttributesOnANetworkInAnotherPart_AreNotReported() =>
        AssertReported(
            """
            [Network(4)]
            public partial class Split;

            [Dense("fc", 2)]
            public partial class Split;
            """);

    [Fact]
    public void GeneratedCode_IsNotReported()
    {
        // The analyzer sees the generator's output in a real build; nothing there may trigger it.
        var run = GeneratorHarness.Run(Prologue + """[Network(1, 8, 8)][Conv2D("conv", 4, 3), ReLU, Flatten, Dense("fc", 2)] public partial class Net;""");
        Assert.Empty(GeneratorHarness.Analyze(run.Output, new LayerAttributeUsageAnalyzer()));
    }

    [Fact]
    public void Descriptor_IsTheGeneratorsPG0016()
    {
        var descriptor = Assert.Single(new LayerAttributeUsageAnalyzer().SupportedDiagnostics);
        Assert.Same(DiagnosticDescriptors.Get("PG0016"), descriptor);
        Assert.Equal(DiagnosticSeverity.Error, descriptor.DefaultSeverity);
        Assert.Equal("PruneGen", descriptor.Category);
        Assert.True(descriptor.IsEnabledByDefault);
    }

    /// <summary>Runs the analyzer on <see cref="Prologue"/> + <paramref name="markup"/>; expects PG0016 exactly at each <c>[|...|]</c> span, in order.</summary>
    private static IReadOnlyList<Diagnostic> AssertReported(string markup)
    {
        var (source, spans) = Markup.Parse(Prologue + markup);
        var compilation = GeneratorHarness.Compile(source);
        var compilerDiagnostics = compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning);
        Assert.True(!compilerDiagnostics.Any(), GeneratorRun.Format(compilerDiagnostics));
        var diagnostics = GeneratorHarness.Analyze(compilation, new LayerAttributeUsageAnalyzer())
            .OrderBy(d => d.Location.SourceSpan.Start)
            .ToList();
        Assert.True(diagnostics.Count == spans.Length, GeneratorRun.Format(diagnostics));
        for (var i = 0; i < spans.Length; i++)
        {
            Assert.Equal("PG0016", diagnostics[i].Id);
            Assert.Equal(DiagnosticSeverity.Error, diagnostics[i].Severity);
            Assert.Same(compilation.SyntaxTrees.Single(), diagnostics[i].Location.SourceTree);
            Assert.Equal(spans[i], diagnostics[i].Location.SourceSpan);
        }

        return diagnostics;
    }
}
