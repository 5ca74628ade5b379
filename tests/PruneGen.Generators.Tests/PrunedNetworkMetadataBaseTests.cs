using System.Collections.Immutable;
using System.Globalization;
using Microsoft.CodeAnalysis;
using PruneGen.Generators.Model;

namespace PruneGen.Generators.Tests;

/// <summary>
/// <c>[PrunedNetwork]</c> with a base declared in a referenced assembly (what the run-time compiler does: the
/// base is a type of the running application). The base's layer attributes come back from metadata in
/// declaration order, so the pruned network is the one a base in source gives, text for text; a base the
/// generator cannot read (a layer kind it does not know, a declaration with errors nobody reported) is PG0035.
/// </summary>
public class PrunedNetworkMetadataBaseTests
{
    private const string PlanPath = PrunedNetworkHarness.PlanPath;

    /// <summary>Every kind of layer argument: positional, named, defaulted, params arrays, doubles, branches.</summary>
    private const string RichBase = """
        using PruneGen;

        namespace App;

        [Network(3, 8, 8)]
        [Conv2D("stem", 8, 3, Padding = 1, Bias = false), BatchNorm("stem_bn"), LeakyReLU(0.2)]
        [ResidualBlock("b1", 8), ResidualBlock("b2", 12, Stride = 2), ReLU(Name = "trunk")]
        [Conv2D("left", 6, 1), ReLU(Name = "left_relu")]
        [DepthwiseConv2D("right", 3, Input = "trunk", Padding = 1, Multiplier = 2)]
        [Concat("cat", "left_relu", "right"), Tanh, MaxPool2D(2, Stride = 2)]
        [Flatten, Dropout(0.3)]
        [Dense("fc", 10), Sigmoid]
        [Dense("logits", 4, Bias = false), Softmax]
        public partial class Rich;
        """;

    [Fact]
    public void LayerAttributesOfAMetadataBase_ComeBackInDeclarationOrder()
    {
        var source = GeneratorHarness.Compile(GeneratorHarness.Parse(RichBase, "Rich.cs"));
        var app = GeneratorHarness.Compile(GeneratorHarness.Parse("namespace Other;\npublic static class Nothing;\n", "App.cs"))
            .AddReferences(Library(RichBase, "Lib"));

        var fromSource = source.GetTypeByMetadataName("App.Rich")!;
        var fromMetadata = app.GetTypeByMetadataName("App.Rich")!;
        Assert.Contains(fromSource.Locations, l => l.IsInSource);
        Assert.DoesNotContain(fromMetadata.Locations, l => l.IsInSource);

        var expected = fromSource.GetAttributes().Select(Describe).ToList();
        var actual = fromMetadata.GetAttributes().Select(Describe).ToList();
        Assert.Equal(18, expected.Count(a => !a.StartsWith("Network", StringComparison.Ordinal)));
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void MetadataBase_ReadsTheSameDeclarationAsTheSourceBase()
    {
        var plan = new InMemoryAdditionalText(PlanPath, "{}");
        var pruned = "using PruneGen;\nnamespace App;\n[PrunedNetwork(typeof(Rich), \"plans/base.plan.json\")]\npublic partial class Small;\n";
        var inSource = PrunedNetworkHarness.Run(GeneratorHarness.Compile(GeneratorHarness.Parse(RichBase, "Rich.cs"), GeneratorHarness.Parse(pruned, "Small.cs")), plan);
        var inMetadata = PrunedNetworkHarness.Run(GeneratorHarness.Compile(GeneratorHarness.Parse(pruned, "Small.cs")).AddReferences(Library(RichBase, "Lib")), plan);

        Assert.DoesNotContain(inSource.GeneratorDiagnostics, d => d.Location.SourceTree?.FilePath == "Rich.cs");
        var a = Target(inSource).BaseDeclaration;
        var b = Target(inMetadata).BaseDeclaration;
        Assert.NotNull(a);
        Assert.Equal(a, b);
        Assert.DoesNotContain(inMetadata.GeneratorDiagnostics, d => d.Id == "PG0035");
    }

    [Fact]
    public void PrunedNetworkOfAMetadataBase_IsTheTextOfTheOneOfASourceBase()
    {
        var sources = PrunedNetworkHarness.Sources;
        var split = sources.IndexOf("[PrunedNetwork", StringComparison.Ordinal);
        var baseFile = sources[..split];
        var prunedFile = "using PruneGen;\n\nnamespace App;\n\n" + sources[split..];
        var plan = new InMemoryAdditionalText(PlanPath, PrunedNetworkHarness.Plan);

        var inSource = PrunedNetworkHarness.Run(sources, plan);
        var inMetadata = PrunedNetworkHarness.Run(
            GeneratorHarness.Compile(GeneratorHarness.Parse(prunedFile, "App.cs")).AddReferences(Library(baseFile, "Lib")), plan);

        Assert.Empty(inMetadata.GeneratorDiagnostics);
        Assert.True(inMetadata.OutputDiagnostics.IsEmpty, GeneratorRun.Format(inMetadata.OutputDiagnostics));
        Assert.Equal(inSource.Source("Small"), inMetadata.Source("Small"));

        // Only the pruned class is generated here: the base's own code lives in its assembly.
        var generated = Assert.Single(inMetadata.GeneratedSources);
        Assert.Equal("App.Small.PruneGen.g.cs", generated.HintName);
    }

    [Fact]
    public void MetadataBase_PlanProblemsAreStillReportedInsideThePlan()
    {
        var prunedFile = "using PruneGen;\nnamespace App;\n[PrunedNetwork(typeof(Base), \"plans/base.plan.json\")]\npublic partial class Small;\n";
        var baseFile = PrunedNetworkHarness.Sources[..PrunedNetworkHarness.Sources.IndexOf("[PrunedNetwork", StringComparison.Ordinal)];
        var plan = new InMemoryAdditionalText(PlanPath, PrunedNetworkHarness.Plan.Replace("[0, 2, 3, 5]", "[0, 2, 3, 40]", StringComparison.Ordinal));

        var run = PrunedNetworkHarness.Run(GeneratorHarness.Compile(GeneratorHarness.Parse(prunedFile, "App.cs")).AddReferences(Library(baseFile, "Lib")), plan);

        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("PG0033", d.Id);
        Assert.Equal(PlanPath, d.Location.GetLineSpan().Path);
        Assert.Contains("keeps channel 40", d.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Theory]
    // Built without the generator, so PG0005 was never reported where the base is declared.
    [InlineData("[Dense(\"fc\", 0)]", "PG0005", "'fc'")]
    // A layer kind from another PruneGen (here: a user-made LayerAttribute subclass the generator cannot know).
    [InlineData("[Dense(\"fc\", 2), Gelu]", "[Gelu] (layer #2) is a layer kind this version of PruneGen does not understand")]
    public void PG0035_AMetadataBaseThatCannotBeCompiled_AtTheTypeArgument(string layers, params string[] keywords)
    {
        var library = "using PruneGen;\nnamespace Lib;\npublic sealed class GeluAttribute : LayerAttribute;\n[Network(4)]\n" + layers + "\npublic partial class LibNet;\n";
        var (source, spans) = Markup.Parse("using PruneGen;\nnamespace App;\n[PrunedNetwork([|typeof(Lib.LibNet)|], \"plans/base.plan.json\")]\npublic partial class Small;\n");
        var compilation = GeneratorHarness.Compile(GeneratorHarness.Parse(source, "App.cs")).AddReferences(Library(library, "Lib"));

        var run = PrunedNetworkHarness.Run(compilation, new InMemoryAdditionalText(PlanPath, PrunedNetworkHarness.Plan));

        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("PG0035", d.Id);
        var message = d.GetMessage(CultureInfo.InvariantCulture);
        foreach (var keyword in keywords.Append("'Lib.LibNet' (assembly Lib)").Append("'Small'").Append("Rebuild that assembly"))
        {
            Assert.True(message.Contains(keyword, StringComparison.Ordinal), $"message lacks \"{keyword}\": {message}");
        }

        Assert.Equal(spans[0], d.Location.SourceSpan);
        Assert.Equal("App.cs", d.Location.GetLineSpan().Path);

        // The class still gets its throwing public surface: no cascade of compiler errors.
        Assert.True(run.OutputDiagnostics.IsEmpty, GeneratorRun.Format(run.OutputDiagnostics));
        Assert.Contains("not generated", run.Source("Small"), StringComparison.Ordinal);
    }

    [Fact]
    public void MetadataBase_EditingAnUnrelatedFile_LeavesThePrunedNetworkCached_ANewBaseAssemblyRecompilesIt()
    {
        const string Util = "namespace App;\npublic static class Util { public static int Twice(int x) => x * 2; }\n";
        var sources = PrunedNetworkHarness.Sources;
        var split = sources.IndexOf("[PrunedNetwork", StringComparison.Ordinal);
        var baseFile = sources[..split];
        var prunedFile = "using PruneGen;\n\nnamespace App;\n\n" + sources[split..];
        var library = Library(baseFile, "Lib");
        var compilation = GeneratorHarness.Compile(GeneratorHarness.Parse(prunedFile, "App.cs"), GeneratorHarness.Parse(Util, "Util.cs")).AddReferences(library);
        var driver = GeneratorHarness.CreateDriver().AddAdditionalTexts(ImmutableArray.Create<AdditionalText>(new InMemoryAdditionalText(PlanPath, PrunedNetworkHarness.Plan)));
        var first = GeneratorHarness.Run(compilation, driver);
        Assert.Empty(first.GeneratorDiagnostics);

        // An unrelated edit: the base is read again (the step runs on every compilation) but compares equal.
        var edited = compilation.ReplaceSyntaxTree(
            compilation.SyntaxTrees.Single(t => t.FilePath == "Util.cs"),
            GeneratorHarness.Parse(Util.Replace("x * 2", "x + x", StringComparison.Ordinal), "Util.cs"));
        var second = GeneratorHarness.Run(edited, first.Driver);
        Assert.Contains(Step(second, NetworkGenerator.PrunedStepNames.Target), new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged });
        Assert.Equal(IncrementalStepRunReason.Cached, Step(second, NetworkGenerator.PrunedStepNames.Compile));
        Assert.Same(Text(first), Text(second));

        // The referenced assembly is rebuilt with a different base: the pruned network follows it.
        var rebuilt = edited.RemoveReferences(library).AddReferences(Library(baseFile.Replace("Dense(\"logits\", 4)", "Dense(\"logits\", 7)", StringComparison.Ordinal), "Lib"));
        var third = GeneratorHarness.Run(rebuilt, second.Driver);
        Assert.Empty(third.GeneratorDiagnostics);
        Assert.Equal(IncrementalStepRunReason.Modified, Step(third, NetworkGenerator.PrunedStepNames.Target));
        Assert.Contains("public const int OutputSize = 7;", Text(third).ToString(), StringComparison.Ordinal);
    }

    /// <summary>Compiles <paramref name="source"/> (without running the generator) into a referenceable assembly image.</summary>
    private static MetadataReference Library(string source, string assemblyName)
    {
        var library = GeneratorHarness.Compile(GeneratorHarness.Parse(source, assemblyName + ".cs")).WithAssemblyName(assemblyName);
        using var image = new MemoryStream();
        var result = library.Emit(image);
        Assert.True(result.Success, GeneratorRun.Format(result.Diagnostics));
        return MetadataReference.CreateFromImage(image.ToArray());
    }

    private static string Describe(AttributeData a) =>
        a.AttributeClass!.Name.Replace("Attribute", string.Empty, StringComparison.Ordinal)
        + "(" + string.Join(", ", a.ConstructorArguments.Select(Value))
        + (a.NamedArguments.Length == 0 ? string.Empty : "; " + string.Join(", ", a.NamedArguments.Select(n => n.Key + " = " + Value(n.Value))))
        + ")";

    private static string Value(TypedConstant c) =>
        c.Kind == TypedConstantKind.Array ? "[" + string.Join(", ", c.Values.Select(Value)) + "]" : Convert.ToString(c.Value, CultureInfo.InvariantCulture) ?? "null";

    private static PrunedTarget Target(GeneratorRun run) =>
        (PrunedTarget)Assert.Single(run.Result.TrackedSteps[NetworkGenerator.PrunedStepNames.Target].SelectMany(s => s.Outputs)).Value;

    private static IncrementalStepRunReason Step(GeneratorRun run, string step) =>
        Assert.Single(run.Result.TrackedSteps[step].SelectMany(s => s.Outputs)).Reason;

    private static Microsoft.CodeAnalysis.Text.SourceText Text(GeneratorRun run) =>
        run.GeneratedSources.Single(s => s.HintName == "App.Small.PruneGen.g.cs").SourceText;
}
