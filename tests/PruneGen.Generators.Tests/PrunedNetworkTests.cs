using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using PruneGen.Generators.Analyzers;

namespace PruneGen.Generators.Tests;

/// <summary>
/// <c>[PrunedNetwork(typeof(Base), "plan.json")]</c>: the pruned class is generated from the base
/// declaration and the plan; every problem is reported with its ID, a message that says how to fix
/// it, and its location: in C# for the class and its base, inside the plan file (path, line, column of
/// the JSON node) for the plan. Plan markup uses <c>[|...|]</c> for the expected span (see <see cref="Markup"/>).
/// </summary>
public class PrunedNetworkTests
{
    private const string PlanPath = PrunedNetworkHarness.PlanPath;

    [Fact]
    public void ValidPlan_GeneratesThePrunedNetwork_WithPrunedConstantsAndComments()
    {
        var run = PrunedNetworkHarness.Run(PrunedNetworkHarness.Sources, new InMemoryAdditionalText(PlanPath, PrunedNetworkHarness.Plan));

        Assert.Null(run.Result.Exception);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.True(run.OutputDiagnostics.IsEmpty, GeneratorRun.Format(run.OutputDiagnostics));
        var source = run.Source("Small");
        Assert.Contains("partial class Small : global::PruneGen.ITrainableNetwork", source, StringComparison.Ordinal);
        Assert.Contains("base network Base pruned by plan \"plans/base.plan.json\"", source, StringComparison.Ordinal);
        Assert.Contains("Pruned from <c>Base</c>", source, StringComparison.Ordinal);
        Assert.Contains("// conv1: Conv2D 1×8×8 → 4×8×8 (pruned from 8 channels)", source, StringComparison.Ordinal);
        Assert.Contains("4×8×8 (from 8)", source, StringComparison.Ordinal);
        Assert.Contains("public const int InputSize = 64;", source, StringComparison.Ordinal);
        Assert.Contains("NetworkBuilder.BuildOrThrow(Declaration, Overrides)", source, StringComparison.Ordinal);
        Assert.Contains("new(\"conv1\", 4), new(\"conv2\", 8), new(\"fc1\", 6)", source, StringComparison.Ordinal);

        // The pruned class's constants are the pruned widths: conv2 keeps 8 of 16, flatten 8·4·4, fc1 keeps 6.
        var flatten = Layer(source, "Flatten1");
        Assert.Contains("public const int Size = 128;", flatten, StringComparison.Ordinal);
        Assert.Contains("public const int Channels = 6;", Layer(source, "Fc1"), StringComparison.Ordinal);
        Assert.Contains("public const int Channels = 4;", Layer(source, "Logits"), StringComparison.Ordinal);

        // The base is untouched.
        Assert.Contains("public const int Channels = 16;", Layer(run.Source("Base"), "Conv2"), StringComparison.Ordinal);
    }

    [Fact]
    public void PlanFoundByFileName_WhenThePathDoesNotEndWithTheAttributePath()
    {
        var run = PrunedNetworkHarness.Run(PrunedNetworkHarness.Sources, new InMemoryAdditionalText(@"C:\work\elsewhere\base.plan.json", PrunedNetworkHarness.Plan));
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Contains("public const int Channels = 6;", Layer(run.Source("Small"), "Fc1"), StringComparison.Ordinal);
    }

    [Fact]
    public void PG0030_PlanNotInAdditionalFiles_AtThePathArgument()
    {
        var (source, spans) = Markup.Parse(PrunedNetworkHarness.Sources.Replace("\"plans/base.plan.json\"", "[|\"plans/base.plan.json\"|]", StringComparison.Ordinal));
        var run = PrunedNetworkHarness.Run(source, new InMemoryAdditionalText("/repo/App/other.json", "{}"));

        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("PG0030", d.Id);
        AssertMessage(d, "'plans/base.plan.json'", "'Small'", "AdditionalFiles", "<AdditionalFiles Include=\"plans/base.plan.json\" />");
        Assert.Equal("App.cs", d.Location.GetLineSpan().Path);
        Assert.Equal(spans[0], d.Location.SourceSpan);

        // The class still gets its (throwing) public surface: no cascade of compiler errors.
        Assert.True(run.OutputDiagnostics.IsEmpty, GeneratorRun.Format(run.OutputDiagnostics));
        Assert.Contains("not generated", run.Source("Small"), StringComparison.Ordinal);
    }

    [Fact]
    public void PG0031_MalformedJson_AtTheErrorInsideThePlanFile()
    {
        // A trailing comma after the last group: line 9 (1-based), the ']' that follows it.
        var plan = PrunedNetworkHarness.Plan.Replace("\"kept\": [0, 1, 2, 3, 4, 5] }", "\"kept\": [0, 1, 2, 3, 4, 5] },", StringComparison.Ordinal);
        var run = PrunedNetworkHarness.Run(PrunedNetworkHarness.Sources, new InMemoryAdditionalText(PlanPath, plan));

        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("PG0031", d.Id);
        AssertMessage(d, "'Small'", "not valid JSON", "line 11, column 3", "expected a value, found ']'");
        var span = d.Location.GetLineSpan();
        Assert.Equal(PlanPath, span.Path);
        Assert.Equal(new LinePosition(10, 2), span.StartLinePosition);
        Assert.True(run.OutputDiagnostics.IsEmpty, GeneratorRun.Format(run.OutputDiagnostics));
    }

    [Theory]
    [InlineData("\"kept\": [0, 1, 2, 3, 4, 5]", "\"kept\": [|\"all\"|]", "groups[2].kept", "expected an array", "the string \"all\"")]
    [InlineData("\"version\": 1", "\"version\": [|\"one\"|]", "version", "expected an integer")]
    [InlineData("\"format\": \"prunegen.plan\"", "\"format\": [|\"something.else\"|]", "format", "expected 'prunegen.plan'")]
    [InlineData("\"seed\": 1,", "\"seed\": 1, \"extra\": [|3|],", "extra", "unknown property 'extra'")]
    [InlineData("[0, 1, 2, 3, 4, 5]", "[0, 1, [|2.5|], 3]", "groups[2].kept[2]", "expected a channel index", "the number 2.5")]
    [InlineData("\"seed\": 1", "\"seed\": [|-1|]", "seed", "expected a non-negative integer", "the number -1")]
    public void PG0032_MalformedPlan_AtTheOffendingNode(string find, string replacement, params string[] keywords)
    {
        var d = AssertPlanDiagnostic(ReplaceValue(PrunedNetworkHarness.Plan, find, replacement), "PG0032", keywords);
        AssertMessage(d, "'Small'");
    }

    [Fact]
    public void PG0032_MissingRequiredProperty_AtTheObjectThatLacksIt()
    {
        var (plan, spans) = Markup.Parse(PrunedNetworkHarness.Plan.Replace(
            "{ \"name\": \"fc1\", \"channels\": 12, \"kept\": [0, 1, 2, 3, 4, 5] }", "[|{ \"name\": \"fc1\", \"kept\": [0, 1, 2, 3, 4, 5] }|]", StringComparison.Ordinal));
        var run = PrunedNetworkHarness.Run(PrunedNetworkHarness.Sources, new InMemoryAdditionalText(PlanPath, plan));
        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("PG0032", d.Id);
        AssertMessage(d, "groups[2].channels", "required property 'channels' is missing");
        AssertPlanLocation(d, plan, spans[0]);
    }

    [Theory]
    [InlineData("[0, 2, 3, 5]", "[0, 2, 3, [|40|]]", "groups[0].kept[3]", "keeps channel 40, outside 0..7")]
    [InlineData("[0, 2, 3, 5]", "[0, 3, [|2|], 5]", "groups[0].kept[2]", "after 3", "increasing order")]
    [InlineData("[0, 2, 3, 5]", "[0, 2, [|2|], 5]", "groups[0].kept[2]", "twice")]
    [InlineData("\"channels\": 8", "\"channels\": [|9|]", "groups[0].channels", "has 8 channels", "says 9")]
    [InlineData("\"name\": \"conv2\"", "\"name\": [|\"conv9\"|]", "groups[1].name", "'conv9' is not a channel group", "conv1")]
    [InlineData("\"name\": \"fc1\", \"channels\": 12", "\"name\": [|\"logits\"|], \"channels\": 12", "groups[2].name", "'logits' cannot be pruned")]
    [InlineData("\"network\": \"Base\"", "\"network\": [|\"Other\"|]", "network", "prunes 'Other', not 'Base'")]
    [InlineData("\"removedBlocks\": []", "\"removedBlocks\": [[|\"block1\"|]]", "removedBlocks[0]", "'block1' is not a residual block", "it has none")]
    [InlineData("\"removedBlocks\": []", "\"removedBlocks\": [], \"removedLayers\": [[|\"conv2\"|]]", "removedLayers[0]", "layer 'conv2' cannot be removed", "changes the shape (8×4×4 → 16×4×4)")]
    [InlineData("\"removedBlocks\": []", "\"removedBlocks\": [], \"removedLayers\": [[|\"relu1\"|]]", "removedLayers[0]", "'relu1' is not a convolution or dense layer", "it has no removable layers")]
    public void PG0033_PlanDoesNotFitTheBase_AtItsJsonNode(string find, string replacement, params string[] keywords)
    {
        var d = AssertPlanDiagnostic(ReplaceValue(PrunedNetworkHarness.Plan, find, replacement), "PG0033", keywords);
        AssertMessage(d, "'Small'", "base network 'Base'");
    }

    [Fact]
    public void PG0033_ReportsEveryProblem_EachAtItsLineAndColumn()
    {
        var plan = PrunedNetworkHarness.Plan
            .Replace("[0, 2, 3, 5]", "[0, 2, 3, 40]", StringComparison.Ordinal)
            .Replace("\"fc1\", \"channels\": 12", "\"fc1\", \"channels\": 13", StringComparison.Ordinal);
        var run = PrunedNetworkHarness.Run(PrunedNetworkHarness.Sources, new InMemoryAdditionalText(PlanPath, plan));

        var spans = run.GeneratorDiagnostics.Select(d => (d.Id, d.Location.GetLineSpan())).ToList();
        Assert.Equal(2, spans.Count);
        Assert.All(spans, s => Assert.Equal("PG0033", s.Id));
        Assert.All(spans, s => Assert.Equal(PlanPath, s.Item2.Path));

        // Line 8 (0-based 7): `    { "name": "conv1", "channels": 8, "kept": [0, 2, 3, 40] },`; 40 starts at column 56 (0-based).
        Assert.Contains(spans, s => s.Item2.StartLinePosition == new LinePosition(7, 56) && s.Item2.EndLinePosition == new LinePosition(7, 58));

        // Line 10 (0-based 9): `    { "name": "fc1", "channels": 13, ...`; 13 starts at column 33.
        Assert.Contains(spans, s => s.Item2.StartLinePosition == new LinePosition(9, 33) && s.Item2.EndLinePosition == new LinePosition(9, 35));
    }

    [Theory]
    [InlineData("typeof(string)", "'string'", "is not a [Network] class")]
    [InlineData("typeof(Helper)", "'App.Helper'", "is not a [Network] class")]
    [InlineData("typeof(Small)", "'Small'", "is itself a pruned network")]
    public void PG0034_BaseIsNotANetwork_AtTheTypeArgument(string typeofExpression, params string[] keywords)
    {
        var markup = PrunedNetworkHarness.Sources.Replace("typeof(Base)", "[|" + typeofExpression + "|]", StringComparison.Ordinal) + "\npublic sealed class Helper;\n";
        if (typeofExpression == "typeof(Small)")
        {
            markup += "\n[PrunedNetwork(typeof(Base), \"plans/base.plan.json\")]\npublic partial class Other;\n";
        }

        var (source, spans) = Markup.Parse(markup);
        var run = PrunedNetworkHarness.Run(source, new InMemoryAdditionalText(PlanPath, PrunedNetworkHarness.Plan));

        var d = Assert.Single(run.GeneratorDiagnostics, x => x.Id == "PG0034");
        AssertMessage(d, keywords);
        AssertMessage(d, "'Small'");
        Assert.Equal(spans[0], d.Location.SourceSpan);
        Assert.Equal("App.cs", d.Location.GetLineSpan().Path);
        Assert.Single(run.GeneratorDiagnostics);
        Assert.True(run.OutputDiagnostics.IsEmpty, GeneratorRun.Format(run.OutputDiagnostics));
    }

    [Fact]
    public void PG0036_PrunedClassWithItsOwnLayers_AtEachAttribute_AndNotPG0016()
    {
        var (source, spans) = Markup.Parse(PrunedNetworkHarness.Sources.Replace(
            "public partial class Small;", "[[|Dense(\"extra\", 3)|]]\npublic partial class Small;", StringComparison.Ordinal));
        var run = PrunedNetworkHarness.Run(source, new InMemoryAdditionalText(PlanPath, PrunedNetworkHarness.Plan));

        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("PG0036", d.Id);
        AssertMessage(d, "[Dense]", "'Small'", "its base 'Base'", "Remove it");
        Assert.Equal(spans[0], d.Location.SourceSpan);
        Assert.DoesNotContain(run.GeneratedSources, s => s.HintName.Contains("Small", StringComparison.Ordinal));
        Assert.Empty(GeneratorHarness.Analyze(run.Input, new LayerAttributeUsageAnalyzer()));
    }

    [Fact]
    public void PG0036_PrunedClassThatIsAlsoANetwork()
    {
        var (source, spans) = Markup.Parse(PrunedNetworkHarness.Sources.Replace(
            "public partial class Small;", "[[|Network(4)|]]\npublic partial class Small;", StringComparison.Ordinal));
        var run = PrunedNetworkHarness.Run(source, new InMemoryAdditionalText(PlanPath, PrunedNetworkHarness.Plan));

        var d = Assert.Single(run.GeneratorDiagnostics, x => x.Id == "PG0036");
        AssertMessage(d, "both [Network] and [PrunedNetwork]");
        Assert.Equal(spans[0], d.Location.SourceSpan);
    }

    [Fact]
    public void PG0001_PrunedClassNotPartial()
    {
        var (source, spans) = Markup.Parse(PrunedNetworkHarness.Sources.Replace("public partial class Small;", "public class [|Small|];", StringComparison.Ordinal));
        var run = PrunedNetworkHarness.Run(source, new InMemoryAdditionalText(PlanPath, PrunedNetworkHarness.Plan));

        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("PG0001", d.Id);
        AssertMessage(d, "'Small'", "partial class Small");
        Assert.Equal(spans[0], d.Location.SourceSpan);
    }

    [Fact]
    public void ErrorsInTheBase_AreReportedAtTheBaseOnly_AndThePrunedClassGetsItsSurface()
    {
        var run = PrunedNetworkHarness.Run(
            PrunedNetworkHarness.Sources.Replace("Dense(\"fc1\", 12)", "Dense(\"fc1\", 0)", StringComparison.Ordinal),
            new InMemoryAdditionalText(PlanPath, PrunedNetworkHarness.Plan));

        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("PG0005", d.Id);
        Assert.True(run.OutputDiagnostics.IsEmpty, GeneratorRun.Format(run.OutputDiagnostics));
        Assert.Contains("not generated", run.Source("Small"), StringComparison.Ordinal);
    }

    // ---- Helpers ----

    private static string Layer(string source, string identifier)
    {
        var start = source.IndexOf($"public static class {identifier}\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no layer class {identifier}");
        return source.Substring(start, source.IndexOf('}', start) - start);
    }

    /// <summary>Replaces <paramref name="find"/> (which must occur once) with marked-up <paramref name="replacement"/>.</summary>
    private static string ReplaceValue(string plan, string find, string replacement)
    {
        Assert.Equal(1, CountOf(plan, find));
        return plan.Replace(find, replacement, StringComparison.Ordinal);
    }

    private static int CountOf(string text, string find)
    {
        var n = 0;
        for (var i = text.IndexOf(find, StringComparison.Ordinal); i >= 0; i = text.IndexOf(find, i + 1, StringComparison.Ordinal))
        {
            n++;
        }

        return n;
    }

    private static Diagnostic AssertPlanDiagnostic(string markupPlan, string id, params string[] keywords)
    {
        var (plan, spans) = Markup.Parse(markupPlan);
        Assert.Single(spans);
        var run = PrunedNetworkHarness.Run(PrunedNetworkHarness.Sources, new InMemoryAdditionalText(PlanPath, plan));
        Assert.Null(run.Result.Exception);
        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal(id, d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        AssertMessage(d, keywords);
        AssertPlanLocation(d, plan, spans[0]);
        Assert.True(run.OutputDiagnostics.IsEmpty, GeneratorRun.Format(run.OutputDiagnostics));
        return d;
    }

    private static void AssertPlanLocation(Diagnostic d, string plan, TextSpan expected)
    {
        Assert.Equal(LocationKind.ExternalFile, d.Location.Kind);
        var got = d.Location.GetLineSpan();
        var want = SourceText.From(plan).Lines.GetLinePositionSpan(expected);
        Assert.Equal(PlanPath, got.Path);
        Assert.True(want == got.Span, $"{d.Id} at {got.Span}, expected {want} ('{plan.Substring(expected.Start, expected.Length)}')");
        Assert.Equal(expected, d.Location.SourceSpan);
    }

    private static void AssertMessage(Diagnostic d, params string[] keywords)
    {
        var message = d.GetMessage(CultureInfo.InvariantCulture);
        foreach (var keyword in keywords)
        {
            Assert.True(message.Contains(keyword, StringComparison.Ordinal), $"{d.Id} message lacks \"{keyword}\": {message}");
        }
    }
}
