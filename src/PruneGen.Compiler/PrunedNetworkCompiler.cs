extern alias generator;

using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using PruneGen.Model;
using PruneGen.Model.Pruning;
using PruneGen.Pruning;
using NetworkGenerator = generator::PruneGen.Generators.NetworkGenerator;

namespace PruneGen.Compiler;

/// <summary>
/// Compiles a pruning plan into a dense pruned network while the program runs: the run-time twin of
/// <c>[PrunedNetwork(typeof(Base), "plan.json")] partial class X;</c>. It writes that one declaration, hands it
/// and the plan (as an AdditionalFiles item) to the same <c>NetworkGenerator</c> the build uses, compiles the
/// result with Roslyn, optimized, and loads it. The class has every pruned width as a constant and its own
/// smaller forward and backward passes, exactly the class the build-time generator would emit.
/// </summary>
/// <remarks>
/// Not for NativeAOT or trimmed applications: it needs Roslyn, the framework's and PruneGen's assemblies as
/// files (<see cref="Assembly.Location"/>; a single-file app has none) and dynamic assembly loading. Such an
/// application compiles the pruned class at build time instead (save <see cref="CompiledNetwork.Source"/> or the
/// plan and use <c>[PrunedNetwork]</c>). A compile costs seconds the first time in a process (Roslyn warms up)
/// and less after; each compiled assembly stays loaded until the process exits.
/// </remarks>
public static class PrunedNetworkCompiler
{
    private const string AotMessage = "PruneGen.Compiler runs Roslyn and loads the compiled assembly at run time; compile pruned networks at build time with [PrunedNetwork] instead.";

    private static readonly CSharpParseOptions ParseOptions = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest);

    /// <summary>The framework's assemblies, read once per process (reading them is a good part of a first compile).</summary>
    private static readonly Lazy<ImmutableArray<MetadataReference>> FrameworkReferences = new(LoadFrameworkReferences, LazyThreadSafetyMode.ExecutionAndPublication);

    private static int s_compiled;

    /// <summary>Compiles <paramref name="plan"/> applied to <paramref name="baseNetwork"/> into a pruned network class.</summary>
    /// <param name="baseNetwork">The <c>[Network]</c> class the plan was made for (public, in an assembly loaded from a file).</param>
    /// <param name="plan">The plan; it is checked against the base with the generator's rules (as a build would).</param>
    /// <param name="className">The pruned class's name; null: the base's name followed by <c>Pruned</c>.</param>
    /// <returns>The compiled network: its type, a factory, its generated source and its assembly.</returns>
    /// <exception cref="PrunedNetworkCompilationException">The plan does not fit the base, or the base cannot be compiled from; lists every problem.</exception>
    /// <exception cref="ArgumentException"><paramref name="baseNetwork"/> is not a public <c>[Network]</c> class, or a name is not a C# identifier.</exception>
    /// <exception cref="InvalidOperationException">An assembly the compilation needs has no file (single-file or in-memory assemblies).</exception>
    [RequiresDynamicCode(AotMessage)]
    [RequiresUnreferencedCode(AotMessage)]
    public static CompiledNetwork Compile(Type baseNetwork, PruningPlan plan, string? className = null) =>
        Compile(baseNetwork, plan, new PrunedNetworkCompilerOptions { ClassName = className });

    /// <summary>Compiles <paramref name="plan"/> applied to <paramref name="baseNetwork"/>, named as <paramref name="options"/> say.</summary>
    /// <inheritdoc cref="Compile(Type, PruningPlan, string?)"/>
    [RequiresDynamicCode(AotMessage)]
    [RequiresUnreferencedCode(AotMessage)]
    public static CompiledNetwork Compile(Type baseNetwork, PruningPlan plan, PrunedNetworkCompilerOptions options)
    {
        ArgumentNullException.ThrowIfNull(baseNetwork);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        CheckBase(baseNetwork);
        var className = options.ClassName ?? baseNetwork.Name + "Pruned";
        CheckNames(className, options);

        // 1. The declaration a project would write, and the plan as the AdditionalFiles item it would list.
        var declaration = Declaration(baseNetwork, className, options);
        var tree = CSharpSyntaxTree.ParseText(SourceText.From(declaration, System.Text.Encoding.UTF8), ParseOptions, className + ".cs");
        var planText = new PlanText(options.PlanPath, PlanFile.ToJson(plan));
        // Both PruneGen.Runtime (INetwork, kernels) and PruneGen (ITrainableNetwork): with the training library
        // referenced the generator emits the training passes too.
        var references = FrameworkReferences.Value
            .Add(Reference(typeof(INetwork).Assembly, "PruneGen.Runtime"))
            .Add(Reference(typeof(ITrainableNetwork).Assembly, "PruneGen"));
        if (baseNetwork.Assembly != typeof(INetwork).Assembly && baseNetwork.Assembly != typeof(ITrainableNetwork).Assembly)
        {
            references = references.Add(Reference(baseNetwork.Assembly, $"the base network '{baseNetwork.Name}'"));
        }

        var assemblyName = $"PruneGen.Compiled.{className}.{Interlocked.Increment(ref s_compiled).ToString(CultureInfo.InvariantCulture)}";
        var compilation = CSharpCompilation.Create(assemblyName, [tree], references, new CSharpCompilationOptions(
            OutputKind.DynamicallyLinkedLibrary,
            optimizationLevel: OptimizationLevel.Release,
            nullableContextOptions: NullableContextOptions.Enable,
            deterministic: true));

        // 2. The generator, exactly as the build runs it.
        GeneratorDriver driver = CSharpGeneratorDriver.Create([new NetworkGenerator().AsSourceGenerator()], [planText], ParseOptions);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var driverDiagnostics);
        var run = driver.GetRunResult().Results.Single();
        // The driver's diagnostics are the generator's (run.Diagnostics) plus its own (CS8785: the generator threw).
        var problems = Errors(driverDiagnostics);
        if (run.Exception is { } exception)
        {
            problems.Add(new CompilationProblem("PG0012", $"The generator threw {exception.GetType().Name}: {exception.Message}", null));
        }

        var generated = run.GeneratedSources.FirstOrDefault(s => s.HintName.EndsWith("." + className + ".PruneGen.g.cs", StringComparison.Ordinal) || s.HintName == className + ".PruneGen.g.cs");
        if (problems.Count == 0 && generated.SourceText is null)
        {
            problems.Add(new CompilationProblem("PG0012", $"The generator wrote no source for '{className}'.", null));
        }

        if (problems.Count > 0)
        {
            throw new PrunedNetworkCompilationException(className, baseNetwork.FullName ?? baseNetwork.Name, problems);
        }

        // 3. Compile and load. Errors here would be a generator bug; they are reported the same way.
        using var image = new MemoryStream();
        var emit = output.Emit(image);
        problems = Errors(emit.Diagnostics);
        if (!emit.Success || problems.Count > 0)
        {
            throw new PrunedNetworkCompilationException(className, baseNetwork.FullName ?? baseNetwork.Name, problems);
        }

        var bytes = image.ToArray();
        var context = new CompiledNetworkLoadContext(assemblyName, typeof(ITrainableNetwork).Assembly, baseNetwork.Assembly);
        using var stream = new MemoryStream(bytes, writable: false);
        var assembly = context.LoadFromStream(stream);
        var fullName = options.Namespace.Length == 0 ? className : options.Namespace + "." + className;
        var type = assembly.GetType(fullName, throwOnError: true)!;
        if (!typeof(ITrainableNetwork).IsAssignableFrom(type))
        {
            throw new InvalidOperationException(
                $"The compiled '{fullName}' does not implement the caller's PruneGen.ITrainableNetwork: PruneGen was loaded twice (from '{typeof(ITrainableNetwork).Assembly.Location}' and elsewhere).");
        }

        return new CompiledNetwork(type, baseNetwork, plan, declaration, generated.SourceText!.ToString(), bytes, clock.Elapsed);
    }

    /// <summary>The one-line declaration of the pruned class.</summary>
    private static string Declaration(Type baseNetwork, string className, PrunedNetworkCompilerOptions options)
    {
        var baseName = "global::" + (baseNetwork.FullName ?? baseNetwork.Name);
        var header = options.Namespace.Length == 0 ? string.Empty : $"namespace {options.Namespace};\n\n";
        return $"""
            // Compiled by PruneGen.Compiler: {baseNetwork.Name} pruned by plan "{options.PlanPath}".
            {header}[global::PruneGen.PrunedNetwork(typeof({baseName}), {SymbolDisplay.FormatLiteral(options.PlanPath, quote: true)})]
            public partial class {className};

            """;
    }

    /// <summary>The static <c>Graph</c> every generated network class carries, or null when <paramref name="type"/> has none.</summary>
    [RequiresUnreferencedCode(AotMessage)]
    internal static NetworkGraph? StaticGraph(Type type) =>
        type.GetProperty("Graph", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as NetworkGraph;

    private static void CheckBase(Type baseNetwork)
    {
        if (baseNetwork.IsDefined(typeof(PrunedNetworkAttribute), inherit: false))
        {
            throw new ArgumentException($"'{baseNetwork.FullName}' is itself a pruned network; prune its [Network] base with a plan that combines both prunings.", nameof(baseNetwork));
        }

        if (!baseNetwork.IsDefined(typeof(NetworkAttribute), inherit: false))
        {
            throw new ArgumentException($"'{baseNetwork.FullName}' is not a [Network] class; pass the network class the plan was made for, e.g. typeof(VggNet).", nameof(baseNetwork));
        }

        if (!baseNetwork.IsPublic)
        {
            throw new ArgumentException($"'{baseNetwork.FullName}' is not public (or is nested): the compiled class names it in typeof(...) from another assembly. Make it a public top-level class.", nameof(baseNetwork));
        }
    }

    private static void CheckNames(string className, PrunedNetworkCompilerOptions options)
    {
        if (!SyntaxFacts.IsValidIdentifier(className) || SyntaxFacts.GetKeywordKind(className) != SyntaxKind.None)
        {
            throw new ArgumentException($"'{className}' is not a valid C# class name.", nameof(options));
        }

        if (options.Namespace.Length > 0 && options.Namespace.Split('.').Any(p => !SyntaxFacts.IsValidIdentifier(p) || SyntaxFacts.GetKeywordKind(p) != SyntaxKind.None))
        {
            throw new ArgumentException($"'{options.Namespace}' is not a valid C# namespace.", nameof(options));
        }

        if (string.IsNullOrWhiteSpace(options.PlanPath))
        {
            throw new ArgumentException("The plan path must not be empty.", nameof(options));
        }
    }

    /// <summary>Errors only: warnings (such as a class name that hides one of the referenced assembly) do not stop a compile.</summary>
    private static List<CompilationProblem> Errors(IEnumerable<Diagnostic> diagnostics) =>
        diagnostics
            .Where(d => d.Severity == DiagnosticSeverity.Error)
            .Select(d => new CompilationProblem(d.Id, d.GetMessage(CultureInfo.InvariantCulture), Where(d.Location)))
            .ToList();

    private static string? Where(Location location)
    {
        if (location == Location.None)
        {
            return null;
        }

        var span = location.GetLineSpan();
        return string.Create(CultureInfo.InvariantCulture, $"{span.Path}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1})");
    }

    private static MetadataReference Reference(Assembly assembly, string what)
    {
        var path = assembly.Location;
        if (string.IsNullOrEmpty(path))
        {
            throw new InvalidOperationException(
                $"PruneGen.Compiler needs {what}'s assembly '{assembly.GetName().Name}' as a file, but it was loaded without one (a single-file app or an in-memory assembly). Publish without PublishSingleFile, or compile the pruned network at build time with [PrunedNetwork].");
        }

        return MetadataReference.CreateFromFile(path);
    }

    /// <summary>The shared framework's assemblies (the directory of <c>System.Private.CoreLib</c>).</summary>
    private static ImmutableArray<MetadataReference> LoadFrameworkReferences()
    {
        var directory = Path.GetDirectoryName(typeof(object).Assembly.Location);
        if (string.IsNullOrEmpty(directory))
        {
            throw new InvalidOperationException(
                "PruneGen.Compiler needs the .NET framework's assemblies as files, but this app was published as a single file (or AOT). Compile the pruned network at build time with [PrunedNetwork] instead.");
        }

        // The trusted platform assemblies in the framework directory: the application's own dependencies
        // (PruneGen.Generators among them, which compiles PruneGen.Model types too) would make names ambiguous.
        var trusted = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(p => string.Equals(Path.GetDirectoryName(p), directory, StringComparison.Ordinal));
        var files = trusted.Any() ? trusted : Directory.EnumerateFiles(directory, "*.dll");
        return files
            .Where(IsManagedAssembly)
            .Order(StringComparer.Ordinal)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray();
    }

    private static bool IsManagedAssembly(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            using var reader = new System.Reflection.PortableExecutable.PEReader(file);
            return reader.HasMetadata;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }

    /// <summary>The plan, handed to the generator as the AdditionalFiles item the attribute names.</summary>
    private sealed class PlanText(string path, string json) : AdditionalText
    {
        private readonly SourceText _text = SourceText.From(json, System.Text.Encoding.UTF8);

        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
    }
}
