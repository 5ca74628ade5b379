using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using PruneGen.Generators.Model;
using PruneGen.Generators.Plans;

namespace PruneGen.Generators.Tests;

/// <summary>
/// Caching of the <c>[PrunedNetwork]</c> steps: an edit elsewhere leaves the plan parse and the compile
/// step cached and re-emits nothing; an edit of the plan text re-parses that plan and re-emits only
/// the pruned network (the base's output stays the same instance).
/// </summary>
public class PrunedNetworkIncrementalTests
{
    private const string Util = "namespace App;\n\npublic static class Util\n{\n    public static int Twice(int x) => x * 2;\n}\n";

    private static readonly IncrementalStepRunReason[] NotRecomputed = { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged };

    [Fact]
    public void EditingAnUnrelatedFile_LeavesThePlanStepsCached_ThenEditingThePlan_ReRunsThem()
    {
        var plan = new InMemoryAdditionalText(PrunedNetworkHarness.PlanPath, PrunedNetworkHarness.Plan);
        var unrelated = new InMemoryAdditionalText("/repo/App/notes.txt", "not a plan");
        var compilation = GeneratorHarness.Compile(
            GeneratorHarness.Parse(PrunedNetworkHarness.Sources, "App.cs"),
            GeneratorHarness.Parse(Util, "Util.cs"));
        var driver = GeneratorHarness.CreateDriver().AddAdditionalTexts(ImmutableArray.Create<AdditionalText>(plan, unrelated));
        var first = GeneratorHarness.Run(compilation, driver);
        Assert.Empty(first.GeneratorDiagnostics);
        Assert.Equal(IncrementalStepRunReason.New, Single(first, NetworkGenerator.PrunedStepNames.PlanParse));
        Assert.Equal(IncrementalStepRunReason.New, Single(first, NetworkGenerator.PrunedStepNames.Compile));

        // Only the named plan file is parsed, never the unrelated AdditionalFiles item.
        var parsed = Assert.Single(first.Result.TrackedSteps[NetworkGenerator.PrunedStepNames.PlanParse].SelectMany(s => s.Outputs));
        Assert.Equal(PrunedNetworkHarness.PlanPath, ((ParsedPlan)parsed.Value).FilePath);

        // 1. An unrelated C# edit: nothing that depends on the plan runs again.
        var edited = compilation.ReplaceSyntaxTree(
            compilation.SyntaxTrees.Single(t => t.FilePath == "Util.cs"),
            GeneratorHarness.Parse(Util.Replace("x * 2", "x + x", StringComparison.Ordinal), "Util.cs"));
        var second = GeneratorHarness.Run(edited, first.Driver);
        Assert.Equal(IncrementalStepRunReason.Cached, Single(second, NetworkGenerator.PrunedStepNames.PlanParse));
        Assert.Contains(Single(second, NetworkGenerator.PrunedStepNames.Target), NotRecomputed);
        Assert.Equal(IncrementalStepRunReason.Cached, Single(second, NetworkGenerator.PrunedStepNames.Compile));
        Assert.Same(Text(first, "Small"), Text(second, "Small"));

        // 2. An unrelated AdditionalFiles edit: the plan is not re-parsed either.
        var thirdDriver = second.Driver.ReplaceAdditionalText(unrelated, new InMemoryAdditionalText(unrelated.Path, "still not a plan"));
        var third = GeneratorHarness.Run(edited, thirdDriver);
        Assert.Equal(IncrementalStepRunReason.Cached, Single(third, NetworkGenerator.PrunedStepNames.PlanParse));
        Assert.Equal(IncrementalStepRunReason.Cached, Single(third, NetworkGenerator.PrunedStepNames.Compile));
        Assert.Same(Text(first, "Small"), Text(third, "Small"));

        // 3. The plan text changes: it is parsed again, the pruned network re-emitted, the base not.
        var newPlan = new InMemoryAdditionalText(plan.Path, PrunedNetworkHarness.Plan.Replace("[0, 1, 2, 3, 4, 5]", "[0, 1, 2]", StringComparison.Ordinal));
        var fourth = GeneratorHarness.Run(edited, third.Driver.ReplaceAdditionalText(plan, newPlan));
        Assert.Empty(fourth.GeneratorDiagnostics);
        Assert.Equal(IncrementalStepRunReason.Modified, Single(fourth, NetworkGenerator.PrunedStepNames.PlanParse));
        Assert.Equal(IncrementalStepRunReason.Modified, Single(fourth, NetworkGenerator.PrunedStepNames.Compile));
        Assert.Equal(IncrementalStepRunReason.Modified, Single(fourth, NetworkGenerator.PrunedStepNames.Spec));
        Assert.Contains("public const int Channels = 3;", Text(fourth, "Small").ToString(), StringComparison.Ordinal);
        Assert.Same(Text(first, "Base"), Text(fourth, "Base"));

        // 4. Whitespace-only plan edit: parsed again (positions moved), same spec, not re-emitted.
        var spaced = new InMemoryAdditionalText(plan.Path, "\n\n" + newPlan.GetText().ToString());
        var fifth = GeneratorHarness.Run(edited, fourth.Driver.ReplaceAdditionalText(newPlan, spaced));
        Assert.Equal(IncrementalStepRunReason.Modified, Single(fifth, NetworkGenerator.PrunedStepNames.PlanParse));
        Assert.Contains(Single(fifth, NetworkGenerator.PrunedStepNames.Spec), NotRecomputed);
        Assert.Same(Text(fourth, "Small"), Text(fifth, "Small"));
    }

    [Fact]
    public void EditingTheBaseInAnotherFile_RecompilesThePrunedNetwork()
    {
        // The base's attributes are read through the typeof symbol, so its file is not the pruned class's
        // file: the target step must still see the edit (and the plan is then checked against the new base).
        var sources = PrunedNetworkHarness.Sources;
        var split = sources.IndexOf("[PrunedNetwork", StringComparison.Ordinal);
        var baseFile = sources[..split];
        var prunedFile = "using PruneGen;\n\nnamespace App;\n\n" + sources[split..];
        var compilation = GeneratorHarness.Compile(GeneratorHarness.Parse(baseFile, "Base.cs"), GeneratorHarness.Parse(prunedFile, "Small.cs"));
        var plan = new InMemoryAdditionalText(PrunedNetworkHarness.PlanPath, PrunedNetworkHarness.Plan);
        var first = GeneratorHarness.Run(compilation, GeneratorHarness.CreateDriver().AddAdditionalTexts(ImmutableArray.Create<AdditionalText>(plan)));
        Assert.Empty(first.GeneratorDiagnostics);

        var edited = compilation.ReplaceSyntaxTree(
            compilation.SyntaxTrees.Single(t => t.FilePath == "Base.cs"),
            GeneratorHarness.Parse(baseFile.Replace("Dense(\"logits\", 4)", "Dense(\"logits\", 7)", StringComparison.Ordinal), "Base.cs"));
        var second = GeneratorHarness.Run(edited, first.Driver);
        Assert.Empty(second.GeneratorDiagnostics);
        Assert.Equal(IncrementalStepRunReason.Modified, Single(second, NetworkGenerator.PrunedStepNames.Target));
        Assert.Equal(IncrementalStepRunReason.Cached, Single(second, NetworkGenerator.PrunedStepNames.PlanParse));
        Assert.Contains("public const int OutputSize = 7;", Text(second, "Small").ToString(), StringComparison.Ordinal);

        // A base edit the plan no longer fits is reported inside the plan.
        var narrower = compilation.ReplaceSyntaxTree(
            compilation.SyntaxTrees.Single(t => t.FilePath == "Base.cs"),
            GeneratorHarness.Parse(baseFile.Replace("Dense(\"fc1\", 12)", "Dense(\"fc1\", 10)", StringComparison.Ordinal), "Base.cs"));
        var third = GeneratorHarness.Run(narrower, second.Driver);
        var d = Assert.Single(third.GeneratorDiagnostics);
        Assert.Equal("PG0033", d.Id);
        Assert.Equal(PrunedNetworkHarness.PlanPath, d.Location.GetLineSpan().Path);
    }

    [Fact]
    public void PrunedPipelineModels_AreValueEquatable_AcrossIdenticalRuns()
    {
        // Two independent runs over equal inputs produce equal models at every step (no reference equality).
        var a = PrunedNetworkHarness.Run(PrunedNetworkHarness.Sources, new InMemoryAdditionalText(PrunedNetworkHarness.PlanPath, PrunedNetworkHarness.Plan));
        var b = PrunedNetworkHarness.Run(PrunedNetworkHarness.Sources, new InMemoryAdditionalText(PrunedNetworkHarness.PlanPath, PrunedNetworkHarness.Plan));
        foreach (var step in new[] { NetworkGenerator.PrunedStepNames.PlanParse, NetworkGenerator.PrunedStepNames.Spec })
        {
            var x = a.Result.TrackedSteps[step].SelectMany(s => s.Outputs).Single().Value;
            var y = b.Result.TrackedSteps[step].SelectMany(s => s.Outputs).Single().Value;
            Assert.NotSame(x, y);
            Assert.Equal(x, y);
        }

        var spec = (NetworkSpec)a.Result.TrackedSteps[NetworkGenerator.PrunedStepNames.Spec].SelectMany(s => s.Outputs).Single().Value;
        Assert.NotNull(spec.Overrides);
        Assert.Equal("Base", spec.Pruned?.BaseClassName);
    }

    private static IncrementalStepRunReason Single(GeneratorRun run, string step) =>
        Assert.Single(run.Result.TrackedSteps[step].SelectMany(s => s.Outputs)).Reason;

    private static Microsoft.CodeAnalysis.Text.SourceText Text(GeneratorRun run, string className) =>
        run.GeneratedSources.Single(s => s.HintName == $"App.{className}.PruneGen.g.cs").SourceText;
}
