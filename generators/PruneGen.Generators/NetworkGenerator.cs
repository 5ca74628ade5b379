using System;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using PruneGen.Generators.Diagnostics;
using PruneGen.Generators.Emit;
using PruneGen.Generators.Model;
using PruneGen.Model;

namespace PruneGen.Generators;

/// <summary>
/// Turns each <c>[Network]</c> class into specialized code: parse the attributes into a
/// <see cref="NetworkDeclaration"/>, build the shaped graph with the shared <see cref="NetworkBuilder"/>,
/// then emit constants, parameters and a SIMD forward pass with every dimension constant.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class NetworkGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline steps (the caching tests assert on them).</summary>
    public static class StepNames
    {
        /// <summary>Attributes → declaration, graph and diagnostics.</summary>
        public const string Parse = nameof(Parse);

        /// <summary>The part of the parse the emitter reads.</summary>
        public const string Spec = nameof(Spec);

        /// <summary>The part of the parse that is reported.</summary>
        public const string Diagnostics = nameof(Diagnostics);

        /// <summary>Whether the compilation references the training runtime (else networks are emitted inference-only).</summary>
        public const string TrainingRuntime = nameof(TrainingRuntime);
    }

    /// <summary>The training runtime's marker type: a compilation without it gets inference-only networks.</summary>
    internal const string TrainableNetworkName = "PruneGen.ITrainableNetwork";

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // ForAttributeWithMetadataName only wakes up for classes carrying [Network], so edits
        // elsewhere never reach the transform. The transform does all the heavy work (parsing and
        // building the graph) and returns value-equatable data, so an edit that does not change the
        // declaration (a comment, a method body) stops at the next step as "Unchanged".
        var parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                "PruneGen.NetworkAttribute",
                // Records too, only to report that a network must be a class (PG0016).
                static (node, _) => node is ClassDeclarationSyntax || node.IsKind(SyntaxKind.RecordDeclaration),
                static (ctx, ct) => Parser.Parse(ctx, ct))
            .WithTrackingName(StepNames.Parse);

        // [PrunedNetwork] classes: base declaration + plan (see NetworkGenerator.PrunedNetwork.cs).
        InitializePrunedNetworks(context);

        // [EmbeddedWeights]: a LoadEmbedded() factory on any network class (NetworkGenerator.EmbeddedWeights.cs).
        InitializeEmbeddedWeights(context);

        // Emission and reporting are separate branches: diagnostics carry syntax trees (for real
        // locations) and would otherwise make every edit of the file re-emit the network.
        var specs = parsed
            .Select(static (r, _) => r.Spec)
            .WithTrackingName(StepNames.Spec);
        var diagnostics = parsed
            .Select(static (r, _) => r.Diagnostics)
            .WithTrackingName(StepNames.Diagnostics);

        RegisterSource(context, specs);

        context.RegisterSourceOutput(diagnostics, static (spc, items) =>
        {
            foreach (var d in items)
            {
                spc.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.Get(d.Id), d.Location?.ToLocation(), d.Message));
            }
        });
    }

    /// <summary>
    /// Registers the emission of <paramref name="specs"/> (both pipelines use it): each spec is joined with whether
    /// the compilation references the training runtime, and emitted inference-only when it does not. The flag is a
    /// bool computed from the compilation, so edits elsewhere leave it equal and the outputs stay cached.
    /// </summary>
    internal static void RegisterSource(IncrementalGeneratorInitializationContext context, IncrementalValuesProvider<NetworkSpec?> specs)
    {
        var training = context.CompilationProvider
            .Select(static (compilation, _) => compilation.GetTypeByMetadataName(TrainableNetworkName) is not null)
            .WithTrackingName(StepNames.TrainingRuntime);
        context.RegisterSourceOutput(specs.Combine(training), static (spc, pair) =>
            AddSource(spc, pair.Left is { } spec && !pair.Right ? spec with { InferenceOnly = true } : pair.Left));
    }

    /// <summary>
    /// Emits <paramref name="spec"/> (nothing for null); a generator failure becomes PG0012 and the class still
    /// gets its source. The spec carries no location (it would defeat caching); the message names the class.
    /// </summary>
    internal static void AddSource(SourceProductionContext spc, NetworkSpec? spec)
    {
        if (spec is null)
        {
            return;
        }

        var (source, error) = EmitSafely(spec);
        if (error is not null)
        {
            spc.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InternalError, Location.None, error));
        }

        spc.AddSource(spec.HintName, source);
    }

    /// <summary>
    /// Emits <paramref name="spec"/>; if the emitter throws (a bug: the builder accepted a graph the
    /// emitter cannot write), emits the throwing public surface instead and returns the PG0012 message,
    /// so that the exception never escapes (it would drop every network's output, warning CS8785 only).
    /// </summary>
    internal static (string Source, string? Error) EmitSafely(NetworkSpec spec)
    {
        try
        {
            return (NetworkEmitter.Emit(spec), null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var error = $"PruneGen failed to generate code for network '{spec.ClassName}': {ex.GetType().Name}: {ex.Message}. Its members throw until this is fixed; please report this with the declaration.";
            return (NetworkEmitter.Emit(spec with { Graph = null }), error);
        }
    }
}
