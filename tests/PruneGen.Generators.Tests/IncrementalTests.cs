using System.Collections;
using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using PruneGen.Generators.Model;
using PruneGen.Model;

namespace PruneGen.Generators.Tests;

/// <summary>
/// Incremental caching, asserted on the tracked pipeline steps: edits that do not change a network's
/// declaration must stop before the emit step (Spec Cached/Unchanged, source output Cached, the same
/// SourceText instance), and an edit of one network must re-emit that network only. Every other test
/// would stay green if caching broke; these would not.
/// </summary>
public class IncrementalTests
{
    private const string NetA = """
        using PruneGen;

        namespace App;

        /// <summary>A flat network (192 MACs), with compile-time checks in its model.</summary>
        [Network(8), MaxMacs(1_000), ExpectShape("logits", 4)]
        [Dense("fc1", 16), ReLU]
        [Dense("logits", 4)]
        public partial class NetA
        {
            public int Helper() => 1;
        }
        """;

    private const string NetB = """
        using PruneGen;

        namespace App;

        [Network(1, 8, 8)]
        [Conv2D("conv1", 4, 3, Padding = 1), ReLU, MaxPool2D(2)]
        [Flatten]
        [Dense("logits", 3)]
        public partial class NetB;
        """;

    private const string Util = """
        namespace App;

        public static class Util
        {
            public static int Twice(int x) => x * 2;
        }
        """;

    private static readonly IncrementalStepRunReason[] NotRecomputed = { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged };

    [Fact]
    public void EditingAMethodBodyInAnUnrelatedFile_ReEmitsNothing()
    {
        var (compilation, first) = Start();
        var edited = Replace(compilation, "Util.cs", Util.Replace("x * 2", "x + x", StringComparison.Ordinal));

        var second = GeneratorHarness.Run(edited, first.Driver);

        AssertSpecs(second, ("NetA", NotRecomputed), ("NetB", NotRecomputed));
        AssertNothingReEmitted(first, second);
    }

    [Fact]
    public void AddingAClassInANewFile_ReEmitsNothing()
    {
        var (compilation, first) = Start();
        var edited = compilation.AddSyntaxTrees(GeneratorHarness.Parse("namespace App;\n\npublic sealed class Added { public int Value { get; set; } }\n", "Added.cs"));

        var second = GeneratorHarness.Run(edited, first.Driver);

        AssertSpecs(second, ("NetA", NotRecomputed), ("NetB", NotRecomputed));
        AssertNothingReEmitted(first, second);
    }

    [Fact]
    public void EditingOneNetwork_ReEmitsOnlyThatNetwork()
    {
        var (compilation, first) = Start();
        var edited = Replace(compilation, "NetA.cs", NetA.Replace("""Dense("fc1", 16)""", """Dense("fc1", 32)""", StringComparison.Ordinal));

        var second = GeneratorHarness.Run(edited, first.Driver);

        AssertSpecs(second, ("NetA", new[] { IncrementalStepRunReason.Modified }), ("NetB", NotRecomputed));
        var outputs = SourceOutputReasons(second);
        Assert.Equal(1, outputs.Count(r => r == IncrementalStepRunReason.Modified));
        Assert.Same(Text(first, "NetB"), Text(second, "NetB"));
        Assert.Contains("public const int Size = 32;", Text(second, "NetA").ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void EditingABudget_ReEmitsOnlyThatNetwork_AndReportsTheViolation()
    {
        var (compilation, first) = Start();
        Assert.Empty(first.GeneratorDiagnostics);
        var edited = Replace(compilation, "NetA.cs", NetA.Replace("MaxMacs(1_000)", "MaxMacs(100)", StringComparison.Ordinal));

        var second = GeneratorHarness.Run(edited, first.Driver);

        // The budget is part of the spec (the summary states it), so NetA is re-emitted; NetB is not.
        AssertSpecs(second, ("NetA", new[] { IncrementalStepRunReason.Modified }), ("NetB", NotRecomputed));
        Assert.Same(Text(first, "NetB"), Text(second, "NetB"));
        Assert.Contains("budget 100.", Text(second, "NetA").ToString(), StringComparison.Ordinal);
        Assert.Equal("PG0022", Assert.Single(second.GeneratorDiagnostics).Id);

        // Back to the original budget: the same spec as the first run, so the same text again.
        var third = GeneratorHarness.Run(compilation, second.Driver);
        Assert.Empty(third.GeneratorDiagnostics);
        Assert.Equal(Text(first, "NetA").ToString(), Text(third, "NetA").ToString());
    }

    [Fact]
    public void AddingACommentOrEditingAMemberInANetworksFile_LeavesItsSpecUnchanged()
    {
        var (compilation, first) = Start();
        var edited = Replace(compilation, "NetA.cs", NetA
            .Replace("[Dense(\"logits\", 4)]", "// the classifier\n[Dense(\"logits\", 4)] /* four classes */", StringComparison.Ordinal)
            .Replace("Helper() => 1;", "Helper() => 2; // changed", StringComparison.Ordinal));

        var second = GeneratorHarness.Run(edited, first.Driver);

        // The file changed, so its transform ran again (Parse) and produced an equal model.
        AssertReasons(second, NetworkGenerator.StepNames.Parse, "NetA", new[] { IncrementalStepRunReason.Unchanged });
        AssertSpecs(second, ("NetA", NotRecomputed), ("NetB", NotRecomputed));
        AssertNothingReEmitted(first, second);
    }

    [Fact]
    public void MovingAnInvalidNetwork_MovesItsDiagnostic_WithoutReEmitting()
    {
        // Diagnostics keep the syntax tree for a real location, so they are re-reported at the new
        // position, but they travel on their own branch: the (surface) source is not re-emitted.
        var invalid = NetB.Replace("""Dense("logits", 3)""", """Dense("logits", 0)""", StringComparison.Ordinal);
        var (compilation, first) = Start(netB: invalid);
        var edited = Replace(compilation, "NetB.cs", invalid.Replace("namespace App;", "namespace App;\n// moved down\n// two lines", StringComparison.Ordinal));

        var second = GeneratorHarness.Run(edited, first.Driver);

        var before = Assert.Single(first.GeneratorDiagnostics);
        var after = Assert.Single(second.GeneratorDiagnostics);
        Assert.Equal("PG0005", after.Id);
        Assert.Equal(before.Location.GetLineSpan().StartLinePosition.Line + 2, after.Location.GetLineSpan().StartLinePosition.Line);
        Assert.Same(edited.SyntaxTrees.Single(t => t.FilePath == "NetB.cs"), after.Location.SourceTree);
        AssertSpecs(second, ("NetA", NotRecomputed), ("NetB", NotRecomputed));
        AssertNothingReEmitted(first, second);
    }

    [Fact]
    public void PipelineModels_HoldNoSymbolsSyntaxOrCompilation()
    {
        // An invalid network too, so that diagnostics (with their locations) flow through the pipeline.
        var (_, run) = Start(extra: "using PruneGen;\nnamespace App;\n[Network(4)]\n[Dense(\"fc\", 0)]\npublic partial class Invalid;\n");
        Assert.NotEmpty(run.GeneratorDiagnostics);

        foreach (var step in new[] { NetworkGenerator.StepNames.Parse, NetworkGenerator.StepNames.Spec, NetworkGenerator.StepNames.Diagnostics })
        {
            var outputs = run.Result.TrackedSteps[step].SelectMany(s => s.Outputs).ToList();
            Assert.Equal(3, outputs.Count);
            foreach (var (value, _) in outputs)
            {
                // Syntax trees are allowed only where diagnostics need a real location; the emit branch has none.
                ModelGuard.Check(value, step, allowSyntaxTrees: step != NetworkGenerator.StepNames.Spec);
            }
        }
    }

    [Fact]
    public void ModelGuard_CatchesWhatItGuardsAgainst()
    {
        var compilation = GeneratorHarness.Compile("class C { }");
        var tree = compilation.SyntaxTrees.Single();
        Assert.ThrowsAny<Exception>(() => ModelGuard.Check(Tuple.Create("x", (object)compilation), "test", allowSyntaxTrees: true));
        Assert.ThrowsAny<Exception>(() => ModelGuard.Check(new object[] { compilation.GetTypeByMetadataName("C")! }, "test", allowSyntaxTrees: true));
        Assert.ThrowsAny<Exception>(() => ModelGuard.Check(Tuple.Create(tree.GetRoot().GetFirstToken()), "test", allowSyntaxTrees: true));
        Assert.ThrowsAny<Exception>(() => ModelGuard.Check(Tuple.Create(tree), "test", allowSyntaxTrees: false));
        Assert.ThrowsAny<Exception>(() => ModelGuard.Check(Tuple.Create(ImmutableArray.Create(1, 2)), "test", allowSyntaxTrees: true));
        ModelGuard.Check(new EquatableArray<string>(new[] { "a" }), "test", allowSyntaxTrees: false);
    }

    // ---- Helpers ----

    private static (CSharpCompilation Compilation, GeneratorRun Run) Start(string netB = NetB, string? extra = null)
    {
        var trees = new List<SyntaxTree>
        {
            GeneratorHarness.Parse(NetA, "NetA.cs"),
            GeneratorHarness.Parse(netB, "NetB.cs"),
            GeneratorHarness.Parse(Util, "Util.cs"),
        };
        if (extra is not null)
        {
            trees.Add(GeneratorHarness.Parse(extra, "Extra.cs"));
        }

        var compilation = GeneratorHarness.Compile(trees.ToArray());
        var run = GeneratorHarness.Run(compilation);
        Assert.Null(run.Result.Exception);
        Assert.All(run.Result.TrackedSteps[NetworkGenerator.StepNames.Spec].SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.New, o.Reason));
        return (compilation, run);
    }

    private static CSharpCompilation Replace(CSharpCompilation compilation, string path, string text) =>
        compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Single(t => t.FilePath == path), GeneratorHarness.Parse(text, path));

    private static void AssertSpecs(GeneratorRun run, params (string ClassName, IncrementalStepRunReason[] Allowed)[] expected)
    {
        foreach (var (className, allowed) in expected)
        {
            AssertReasons(run, NetworkGenerator.StepNames.Spec, className, allowed);
        }
    }

    /// <summary>The reason of <paramref name="step"/>'s output for <paramref name="className"/> is one of <paramref name="allowed"/>.</summary>
    private static void AssertReasons(GeneratorRun run, string step, string className, IncrementalStepRunReason[] allowed)
    {
        var outputs = run.Result.TrackedSteps[step]
            .SelectMany(s => s.Outputs)
            .Where(o => ClassNameOf(o.Value) == className)
            .ToList();
        var output = Assert.Single(outputs);
        Assert.True(allowed.Contains(output.Reason), $"{step} of {className}: {output.Reason}, expected {string.Join(" or ", allowed)}");
    }

    private static string? ClassNameOf(object value) => value switch
    {
        NetworkSpec spec => spec.ClassName,
        ParseResult parse => parse.Spec?.ClassName,
        _ => null,
    };

    /// <summary>
    /// Reasons of the source outputs fed by the Spec step (one per network); the spec reaches the output through
    /// its join with the <see cref="NetworkGenerator.StepNames.TrainingRuntime"/> flag.
    /// </summary>
    private static List<IncrementalStepRunReason> SourceOutputReasons(GeneratorRun run) =>
        run.Result.TrackedOutputSteps[WellKnownGeneratorOutputs.SourceOutput]
            .Where(s => s.Inputs.Any(i => i.Source.Name == NetworkGenerator.StepNames.Spec
                || i.Source.Inputs.Any(j => j.Source.Name == NetworkGenerator.StepNames.Spec)))
            .SelectMany(s => s.Outputs)
            .Select(o => o.Reason)
            .ToList();

    private static void AssertNothingReEmitted(GeneratorRun first, GeneratorRun second)
    {
        var outputs = SourceOutputReasons(second);
        Assert.Equal(2, outputs.Count);
        Assert.All(outputs, r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        var diagnosticsOutputs = second.Result.TrackedOutputSteps[WellKnownGeneratorOutputs.SourceOutput]
            .Where(s => s.Inputs.Any(i => i.Source.Name == NetworkGenerator.StepNames.Diagnostics));
        Assert.NotEmpty(diagnosticsOutputs);
        Assert.Same(Text(first, "NetA"), Text(second, "NetA"));
        Assert.Same(Text(first, "NetB"), Text(second, "NetB"));
    }

    private static Microsoft.CodeAnalysis.Text.SourceText Text(GeneratorRun run, string className) =>
        run.GeneratedSources.Single(s => s.HintName == $"App.{className}.PruneGen.g.cs").SourceText;

    /// <summary>
    /// Walks a pipeline value and fails on anything that would defeat caching or keep a compilation
    /// alive: symbols, syntax nodes/tokens/trivia, compilations, semantic models, locations, raw arrays
    /// or <c>ImmutableArray</c> (reference equality), and syntax trees outside the diagnostics branch.
    /// </summary>
    private static class ModelGuard
    {
        public static void Check(object? value, string path, bool allowSyntaxTrees) =>
            Walk(value, path, allowSyntaxTrees, new HashSet<object>(ReferenceEqualityComparer.Instance));

        private static void Walk(object? value, string path, bool allowSyntaxTrees, HashSet<object> seen)
        {
            if (value is null || value is string || value is decimal || value.GetType().IsPrimitive || value.GetType().IsEnum)
            {
                return;
            }

            var type = value.GetType();
            Assert.False(
                value is ISymbol or SyntaxNode or SyntaxToken or SyntaxTrivia or Compilation or SemanticModel or Location,
                $"{path} holds a {type.FullName}");
            Assert.False(type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ImmutableArray<>), $"{path} is a raw ImmutableArray (reference equality); use EquatableArray");
            if (value is SyntaxTree)
            {
                Assert.True(allowSyntaxTrees, $"{path} holds a SyntaxTree, which changes on every edit of its file");
                return;
            }

            if (!type.IsValueType && !seen.Add(value))
            {
                return;
            }

            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(EquatableArray<>))
            {
                var i = 0;
                foreach (var item in (IEnumerable)value)
                {
                    Walk(item, $"{path}[{i++}]", allowSyntaxTrees, seen);
                }

                return;
            }

            Assert.False(type.IsArray, $"{path} is a raw array (reference equality); use EquatableArray");
            for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
            {
                foreach (var field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                {
                    Walk(field.GetValue(value), $"{path}.{field.Name}", allowSyntaxTrees, seen);
                }
            }
        }
    }
}
