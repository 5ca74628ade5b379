using System;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using PruneGen.Generators.Diagnostics;
using PruneGen.Generators.Emit;
using PruneGen.Generators.Model;
using PruneGen.Model;

namespace PruneGen.Generators;

/// <summary>
/// <c>[EmbeddedWeights("name")]</c> on a network class: a <c>LoadEmbedded()</c> factory that reads the weights from
/// the class's own assembly's manifest resource. It needs nothing from the network's declaration (the runtime
/// checks the weights against the network's parameters), so it is its own small pipeline and its own generated
/// file, and works the same for <c>[Network]</c> and <c>[PrunedNetwork]</c> classes.
/// </summary>
public sealed partial class NetworkGenerator
{
    /// <summary>Tracking names of the <c>[EmbeddedWeights]</c> steps.</summary>
    public static class EmbeddedWeightsStepNames
    {
        /// <summary>The attribute read and checked.</summary>
        public const string Parse = "EmbeddedWeightsParse";

        /// <summary>The part of the parse the emitter reads.</summary>
        public const string Spec = "EmbeddedWeightsSpec";
    }

    private const string EmbeddedWeightsAttributeName = "PruneGen.EmbeddedWeightsAttribute";

    private static void InitializeEmbeddedWeights(IncrementalGeneratorInitializationContext context)
    {
        var parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                EmbeddedWeightsAttributeName,
                static (node, _) => node is ClassDeclarationSyntax || node.IsKind(SyntaxKind.RecordDeclaration),
                static (ctx, ct) => EmbeddedWeightsParser.Parse(ctx, ct))
            .WithTrackingName(EmbeddedWeightsStepNames.Parse);

        var specs = parsed
            .Select(static (r, _) => r.Spec)
            .WithTrackingName(EmbeddedWeightsStepNames.Spec);
        context.RegisterSourceOutput(specs, static (spc, spec) =>
        {
            if (spec is not null)
            {
                spc.AddSource(spec.HintName, EmbeddedWeightsEmitter.Emit(spec));
            }
        });

        context.RegisterSourceOutput(parsed.Select(static (r, _) => r.Diagnostics), static (spc, items) =>
        {
            foreach (var d in items)
            {
                spc.ReportDiagnostic(Diagnostic.Create(EmbeddedWeightsDiagnostics.Get(d.Id), d.Location?.ToLocation(), d.Message));
            }
        });
    }

    /// <summary>Reads <c>[EmbeddedWeights]</c>: is the class a network, and is the resource name usable?</summary>
    internal static class EmbeddedWeightsParser
    {
        public static EmbeddedWeightsResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            var syntax = (TypeDeclarationSyntax)context.TargetNode;
            var symbol = (INamedTypeSymbol)context.TargetSymbol;
            var attribute = context.Attributes[0];
            var attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
            var attributeLocation = attributeSyntax is null ? LocationInfo.From(syntax.Identifier) : LocationInfo.From(attributeSyntax);
            EmbeddedWeightsResult Report(string id, string message, LocationInfo where) =>
                new(null, new EquatableArray<DiagnosticInfo>(new[] { new DiagnosticInfo(id, message, where) }));

            var isNetwork = symbol.GetAttributes().Any(a => a.AttributeClass is { } c
                && c.ContainingNamespace.ToDisplayString() == "PruneGen"
                && c.Name is "NetworkAttribute" or "PrunedNetworkAttribute");
            if (!isNetwork)
            {
                return Report(EmbeddedWeightsDiagnostics.NotNetwork,
                    $"[EmbeddedWeights] on '{symbol.Name}' has no effect: '{symbol.Name}' is not a network. Put it on a [Network] or [PrunedNetwork] class, whose generated LoadEmbedded() then loads the weights.",
                    attributeLocation);
            }

            var name = attribute.ConstructorArguments.Length == 1 ? attribute.ConstructorArguments[0].Value as string : null;
            if (attribute.ConstructorArguments.Length != 1 || attribute.ConstructorArguments[0].Kind == TypedConstantKind.Error)
            {
                return new EmbeddedWeightsResult(null, EquatableArray<DiagnosticInfo>.Empty); // The compiler reports the bad argument.
            }

            var argumentLocation = attributeSyntax?.ArgumentList is { Arguments.Count: 1 } list ? LocationInfo.From(list.Arguments[0]) : attributeLocation;
            if (string.IsNullOrWhiteSpace(name) || name!.Trim().Length != name.Length)
            {
                var shown = name is null ? "null" : $"\"{name}\"";
                return Report(EmbeddedWeightsDiagnostics.InvalidResourceName,
                    $"[EmbeddedWeights] on '{symbol.Name}': the resource name {shown} cannot name a manifest resource. Write the LogicalName of the EmbeddedResource item that holds the weights, e.g. [EmbeddedWeights(\"{symbol.Name}.safetensors\")] with <EmbeddedResource Include=\"{symbol.Name}.safetensors\" LogicalName=\"{symbol.Name}.safetensors\" />.",
                    argumentLocation);
            }

            // A class the network pipelines reject (not partial, nested, generic, static, a record) is reported
            // there; adding a file to it would only add errors.
            var partial = symbol.DeclaringSyntaxReferences.Any(r => r.GetSyntax(cancellationToken) is TypeDeclarationSyntax c && c.Modifiers.Any(SyntaxKind.PartialKeyword));
            if (!partial || symbol.ContainingType is not null || symbol.IsGenericType || symbol.IsStatic || symbol.IsRecord)
            {
                return new EmbeddedWeightsResult(null, EquatableArray<DiagnosticInfo>.Empty);
            }

            var ns = symbol.ContainingNamespace.IsGlobalNamespace ? null : symbol.ContainingNamespace.ToDisplayString();
            return new EmbeddedWeightsResult(new EmbeddedWeightsSpec(ns, symbol.Name, name), EquatableArray<DiagnosticInfo>.Empty);
        }
    }
}

/// <summary>What the <c>LoadEmbedded()</c> emitter needs.</summary>
/// <param name="Namespace">The class's namespace, or null.</param>
/// <param name="ClassName">The network class.</param>
/// <param name="ResourceName">The manifest resource holding its weights.</param>
internal sealed record EmbeddedWeightsSpec(string? Namespace, string ClassName, string ResourceName)
{
    /// <summary>File name of the generated source.</summary>
    public string HintName => (Namespace is null ? ClassName : $"{Namespace}.{ClassName}") + ".PruneGen.EmbeddedWeights.g.cs";
}

/// <summary>The result of reading one <c>[EmbeddedWeights]</c>.</summary>
/// <param name="Spec">What to emit (null: nothing).</param>
/// <param name="Diagnostics">What to report.</param>
internal sealed record EmbeddedWeightsResult(EmbeddedWeightsSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>Writes the <c>LoadEmbedded()</c> factory of an <c>[EmbeddedWeights]</c> network.</summary>
internal static class EmbeddedWeightsEmitter
{
    public static string Emit(EmbeddedWeightsSpec spec)
    {
        var w = new CodeWriter();
        var name = spec.ClassName;
        w.Line("// <auto-generated/>");
        w.Line($"// Generated by PruneGen from [EmbeddedWeights] on {name}. Do not edit: change the attribute.");
        w.Line("#nullable enable");
        w.Line();
        if (spec.Namespace is not null)
        {
            w.Line($"namespace {spec.Namespace};");
            w.Line();
        }

        w.Open($"partial class {name}");
        w.Line("/// <summary>The manifest resource of this assembly that holds the network's weights (a safetensors file).</summary>");
        w.Line($"public const string EmbeddedWeightsResource = {SymbolDisplay.FormatLiteral(spec.ResourceName, quote: true)};");
        w.Line();
        w.Line("/// <summary>");
        w.Line($"/// A new <see cref=\"{name}\"/> with the weights embedded in this assembly (resource <see cref=\"EmbeddedWeightsResource\"/>),");
        w.Line("/// validated strictly: every parameter present with its exact shape, nothing else. Reads the resource stream only");
        w.Line("/// (no reflection over members), so it is safe to trim and to compile with NativeAOT. Each call reads the weights again.");
        w.Line("/// </summary>");
        w.Line("/// <exception cref=\"global::System.IO.FileNotFoundException\">The resource is not embedded; the message lists the resources there are.</exception>");
        w.Line("/// <exception cref=\"global::System.IO.InvalidDataException\">The embedded file is not valid safetensors.</exception>");
        w.Line("/// <exception cref=\"global::PruneGen.Checkpoints.CheckpointMismatchException\">The embedded weights do not fit this network (names the first mismatch).</exception>");
        w.Open($"public static {name} LoadEmbedded()");
        w.Line($"var network = new {name}();");
        w.Line($"global::PruneGen.Checkpoints.Checkpoint.LoadResource(network, typeof({name}).Assembly, EmbeddedWeightsResource);");
        w.Line("return network;");
        w.Close();
        w.Close();
        return w.ToString();
    }
}
