extern alias runtime;

using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace PruneGen.Generators.Tests;

/// <summary>
/// Runs <see cref="NetworkGenerator"/> in-process on a compilation of test sources, the way the
/// compiler would: platform assemblies + the PruneGen runtime as references, nullable enabled,
/// step tracking on (for the caching tests).
/// </summary>
internal static class GeneratorHarness
{
    /// <summary>Latest C# with XML doc comments checked, so malformed generated docs show up as warnings.</summary>
    public static readonly CSharpParseOptions ParseOptions = CSharpParseOptions.Default
        .WithLanguageVersion(LanguageVersion.Latest)
        .WithDocumentationMode(DocumentationMode.Diagnose);

    /// <summary>Library output, nullable on; CS1591 (undocumented public member) is about the test sources, not the generator.</summary>
    public static readonly CSharpCompilationOptions CompilationOptions = new CSharpCompilationOptions(
            OutputKind.DynamicallyLinkedLibrary,
            nullableContextOptions: NullableContextOptions.Enable)
        .WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic> { ["CS1591"] = ReportDiagnostic.Suppress });

    private static readonly Lazy<ImmutableArray<MetadataReference>> LazyReferences = new(() => LoadReferences(training: true));

    private static readonly Lazy<ImmutableArray<MetadataReference>> LazyInferenceReferences = new(() => LoadReferences(training: false));

    /// <summary>The shared framework's assemblies, PruneGen.Runtime and PruneGen (training).</summary>
    public static ImmutableArray<MetadataReference> References => LazyReferences.Value;

    /// <summary>The shared framework's assemblies and PruneGen.Runtime only: what an inference-only library compiles against.</summary>
    public static ImmutableArray<MetadataReference> InferenceReferences => LazyInferenceReferences.Value;

    /// <summary>Parses <paramref name="text"/> as a file at <paramref name="path"/>.</summary>
    public static SyntaxTree Parse(string text, string path = "Test0.cs") =>
        CSharpSyntaxTree.ParseText(SourceText.From(text, System.Text.Encoding.UTF8), ParseOptions, path);

    /// <summary>A compilation of <paramref name="sources"/>, named <c>Test0.cs</c>, <c>Test1.cs</c>, ….</summary>
    public static CSharpCompilation Compile(params string[] sources) =>
        Compile(sources.Select((s, i) => Parse(s, $"Test{i}.cs")).ToArray());

    /// <summary>A compilation of <paramref name="trees"/>.</summary>
    public static CSharpCompilation Compile(params SyntaxTree[] trees) =>
        CSharpCompilation.Create("TestAssembly", trees, References, CompilationOptions);

    /// <summary>A compilation of <paramref name="sources"/> against <see cref="InferenceReferences"/> (no training runtime).</summary>
    public static CSharpCompilation CompileInferenceOnly(params string[] sources) =>
        CSharpCompilation.Create("TestAssembly", sources.Select((s, i) => Parse(s, $"Test{i}.cs")), InferenceReferences, CompilationOptions);

    /// <summary>A driver for the generator with step tracking on.</summary>
    public static GeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create(
            new[] { new NetworkGenerator().AsSourceGenerator() },
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Compiles <paramref name="sources"/> and runs the generator on them.</summary>
    public static GeneratorRun Run(params string[] sources) => Run(Compile(sources));

    /// <summary>Runs the generator (on <paramref name="driver"/> when given, for incremental runs) over <paramref name="compilation"/>.</summary>
    public static GeneratorRun Run(Compilation compilation, GeneratorDriver? driver = null)
    {
        driver = (driver ?? CreateDriver()).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var driverDiagnostics);
        var result = driver.GetRunResult().Results.Single();
        return new GeneratorRun(compilation, output, driver, result, driverDiagnostics);
    }

    /// <summary>Runs <paramref name="analyzer"/> on <paramref name="compilation"/> and returns what it reports.</summary>
    public static ImmutableArray<Diagnostic> Analyze(Compilation compilation, DiagnosticAnalyzer analyzer) =>
        compilation.WithAnalyzers(ImmutableArray.Create(analyzer))
            .GetAnalyzerDiagnosticsAsync(CancellationToken.None).GetAwaiter().GetResult();

    private static ImmutableArray<MetadataReference> LoadReferences(bool training)
    {
        // Only the shared framework's part of the trusted platform assemblies: the test's own
        // dependencies (the generator assembly, which compiles the shared model too, xunit, Roslyn)
        // would make PruneGen.Model types ambiguous and are not what a user compiles against.
        var trusted = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        var frameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location);
        var runtimeAssemblies = new List<string> { typeof(runtime::PruneGen.INetwork).Assembly.Location };
        if (training)
        {
            runtimeAssemblies.Add(typeof(runtime::PruneGen.ITrainableNetwork).Assembly.Location);
        }

        return trusted
            .Where(p => string.Equals(Path.GetDirectoryName(p), frameworkDirectory, StringComparison.Ordinal))
            .Concat(runtimeAssemblies)
            .Distinct(StringComparer.Ordinal)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray();
    }
}

/// <summary>One generator run: its inputs, outputs and what it reported.</summary>
/// <param name="Input">The compilation the generator ran on.</param>
/// <param name="Output">The compilation with the generated sources added.</param>
/// <param name="Driver">The driver after the run (run it again for incremental tests).</param>
/// <param name="Result">The generator's run result (sources, diagnostics, tracked steps, exception).</param>
/// <param name="DriverDiagnostics">What the driver reported (CS8785 if the generator threw).</param>
internal sealed record GeneratorRun(Compilation Input, Compilation Output, GeneratorDriver Driver, GeneratorRunResult Result, ImmutableArray<Diagnostic> DriverDiagnostics)
{
    /// <summary>The generator's diagnostics.</summary>
    public ImmutableArray<Diagnostic> GeneratorDiagnostics => Result.Diagnostics;

    /// <summary>The generated sources.</summary>
    public ImmutableArray<GeneratedSourceResult> GeneratedSources => Result.GeneratedSources;

    /// <summary>Errors and warnings of the output compilation (what the user would see besides the generator's own diagnostics).</summary>
    public ImmutableArray<Diagnostic> OutputDiagnostics =>
        Output.GetDiagnostics().Where(d => d.Severity is DiagnosticSeverity.Warning or DiagnosticSeverity.Error).ToImmutableArray();

    /// <summary>The text of the network source (<c>*.PruneGen.g.cs</c>) generated for <paramref name="className"/> (hint name <c>{className}.…</c> or <c>*.{className}.…</c>).</summary>
    public string Source(string className) =>
        GeneratedSources.Single(s => (s.HintName.StartsWith(className + ".", StringComparison.Ordinal) || s.HintName.Contains("." + className + ".", StringComparison.Ordinal))
                && s.HintName.EndsWith(".PruneGen.g.cs", StringComparison.Ordinal))
            .SourceText.ToString();

    /// <summary>Formats diagnostics one per line (for assertion messages).</summary>
    public static string Format(IEnumerable<Diagnostic> diagnostics) =>
        string.Join(Environment.NewLine, diagnostics.Select(d => d.ToString()));
}

/// <summary>
/// Test-source markup: <c>[|...|]</c> marks the span a diagnostic must point at. <c>[[|Dense("fc", 0)|]]</c>
/// marks the attribute inside its list, where the generator reports layer errors.
/// </summary>
internal static class Markup
{
    /// <summary>The source without markers, and the marked spans in order.</summary>
    public static (string Source, ImmutableArray<TextSpan> Spans) Parse(string markup)
    {
        var text = new System.Text.StringBuilder();
        var spans = ImmutableArray.CreateBuilder<TextSpan>();
        var i = 0;
        while (true)
        {
            var open = markup.IndexOf("[|", i, StringComparison.Ordinal);
            if (open < 0)
            {
                break;
            }

            var close = markup.IndexOf("|]", open + 2, StringComparison.Ordinal);
            if (close < 0)
            {
                throw new ArgumentException("Unclosed [| marker.", nameof(markup));
            }

            text.Append(markup, i, open - i);
            var start = text.Length;
            text.Append(markup, open + 2, close - open - 2);
            spans.Add(TextSpan.FromBounds(start, text.Length));
            i = close + 2;
        }

        text.Append(markup, i, markup.Length - i);
        return (text.ToString(), spans.ToImmutable());
    }
}
