using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;
using PruneGen.Generators.Diagnostics;
using PruneGen.Generators.Model;
using PruneGen.Generators.Plans;
using PruneGen.Model;
using PruneGen.Model.Pruning;

namespace PruneGen.Generators;

/// <summary>
/// <c>[PrunedNetwork(typeof(Base), "plan.json")]</c>: a compiled pruned network. The base's declaration
/// plus the plan's overrides is just another declaration, so the pruned class goes through the same
/// builder and emitter as any network; what is new is reading the plan (an AdditionalFiles item) with
/// positions, so every plan problem is reported at its JSON node inside the plan file.
/// </summary>
public sealed partial class NetworkGenerator
{
    /// <summary>Tracking names of the <c>[PrunedNetwork]</c> steps.</summary>
    public static class PrunedStepNames
    {
        /// <summary>The class's attributes and its base's declaration.</summary>
        public const string Target = "PrunedTarget";

        /// <summary>One plan file parsed with positions (re-runs only when that file changes).</summary>
        public const string PlanParse = nameof(PlanParse);

        /// <summary>A target matched with its plan, validated, and built into the pruned graph.</summary>
        public const string Compile = "PrunedCompile";

        /// <summary>The part of the compile step the emitter reads.</summary>
        public const string Spec = "PrunedSpec";
    }

    private const string PrunedNetworkAttributeName = "PruneGen.PrunedNetworkAttribute";

    /// <summary>
    /// The pipeline: targets (attributes → <see cref="PrunedTarget"/>) and plan files (each AdditionalFiles
    /// item that some target names, parsed on its own) meet in the compile step, which validates the plan
    /// against the base and builds the pruned graph; emission reads only the spec (no syntax trees), so an
    /// edit that leaves the pruned network the same stops there.
    /// </summary>
    private static void InitializePrunedNetworks(IncrementalGeneratorInitializationContext context)
    {
        var targets = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                PrunedNetworkAttributeName,
                static (node, _) => node is ClassDeclarationSyntax || node.IsKind(SyntaxKind.RecordDeclaration),
                static (ctx, ct) => PrunedParser.Parse(ctx, ct))
            .WithTrackingName(PrunedStepNames.Target);

        // Only the files some [PrunedNetwork] names (by file name) are read and parsed, so a large
        // unrelated AdditionalFiles item costs nothing; the names compare equal across C# edits, so
        // the parsed plans stay cached until a plan file (or the set of plan names) changes.
        var planNames = targets
            .Select(static (t, _) => FileName(t.PlanPath))
            .Collect()
            .Select(static (names, _) => new EquatableArray<string>(names.Distinct(StringComparer.OrdinalIgnoreCase).OrderBy(n => n, StringComparer.Ordinal).ToArray()));
        var plans = context.AdditionalTextsProvider
            .Combine(planNames)
            .Where(static pair => pair.Right.Contains(FileName(pair.Left.Path), StringComparer.OrdinalIgnoreCase))
            .Select(static (pair, ct) => ParsePlan(pair.Left, ct))
            .WithTrackingName(PrunedStepNames.PlanParse);

        var compiled = targets
            .Combine(plans.Collect())
            .Select(static (pair, ct) => PrunedCompiler.Compile(pair.Left, pair.Right, ct))
            .WithTrackingName(PrunedStepNames.Compile);

        var specs = compiled
            .Select(static (r, _) => r.Spec)
            .WithTrackingName(PrunedStepNames.Spec);
        var diagnostics = compiled.Select(static (r, _) => (r.Diagnostics, r.PlanDiagnostics));

        RegisterSource(context, specs);

        context.RegisterSourceOutput(diagnostics, static (spc, items) =>
        {
            foreach (var d in items.Diagnostics)
            {
                spc.ReportDiagnostic(Diagnostic.Create(PrunedNetworkDiagnostics.Get(d.Id), d.Location?.ToLocation(), d.Message));
            }

            foreach (var d in items.PlanDiagnostics)
            {
                spc.ReportDiagnostic(Diagnostic.Create(PrunedNetworkDiagnostics.Get(d.Id), d.ToLocation(), d.Message));
            }
        });
    }

    private static ParsedPlan ParsePlan(AdditionalText file, CancellationToken cancellationToken)
    {
        var text = file.GetText(cancellationToken);
        if (text is null)
        {
            var problem = new PlanProblem(PrunedNetworkDiagnostics.PlanNotJson, string.Empty, "the file could not be read.", default, default);
            return new ParsedPlan(file.Path, null, new EquatableArray<PlanProblem>(new[] { problem }), EquatableArray<PlanNodeSpan>.Empty);
        }

        return PlanJson.Parse(file.Path, text);
    }

    private static string Normalize(string path)
    {
        path = path.Replace('\\', '/');
        while (path.StartsWith("./", StringComparison.Ordinal))
        {
            path = path.Substring(2);
        }

        return path;
    }

    private static string FileName(string path)
    {
        path = Normalize(path);
        return path.Substring(path.LastIndexOf('/') + 1);
    }

    /// <summary>Reads a <c>[PrunedNetwork]</c> class: checks the class, finds its base and reads the base's declaration.</summary>
    internal static class PrunedParser
    {
        public static PrunedTarget Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            var syntax = (TypeDeclarationSyntax)context.TargetNode;
            var symbol = (INamedTypeSymbol)context.TargetSymbol;
            var attribute = context.Attributes[0];
            var attributeLocation = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is AttributeSyntax a ? a : null;
            var args = attribute.ConstructorArguments;
            var baseType = args.Length == 2 ? args[0].Value as INamedTypeSymbol : null;
            var planPath = args.Length == 2 && args[1].Value is string p ? p : string.Empty;
            var planArgument = attributeLocation?.ArgumentList is { Arguments.Count: 2 } list
                ? LocationInfo.From(list.Arguments[1])
                : LocationInfo.From(syntax.Identifier);
            var target = new PrunedTarget(Namespace(symbol), symbol.Name, Accessibility(symbol), baseType?.Name ?? string.Empty, planPath, null, planArgument, EquatableArray<DiagnosticInfo>.Empty, Emit: false);
            var diagnostics = new List<DiagnosticInfo>();
            PrunedTarget Done(bool emit, NetworkDeclaration? declaration = null) =>
                target with { Emit = emit, BaseDeclaration = declaration, Diagnostics = new EquatableArray<DiagnosticInfo>(diagnostics.ToArray()) };

            try
            {
                if (!symbol.DeclaringSyntaxReferences.Any(r => r.GetSyntax(cancellationToken) is TypeDeclarationSyntax c && c.Modifiers.Any(SyntaxKind.PartialKeyword)))
                {
                    diagnostics.Add(new DiagnosticInfo(DiagnosticIds.NotPartial,
                        $"Pruned network class '{symbol.Name}' must be declared 'partial' so PruneGen can add its generated members: write 'partial class {symbol.Name}'.",
                        LocationInfo.From(syntax.Identifier)));
                    return Done(emit: false);
                }

                if (InvalidPrunedClass(symbol) is { } problem)
                {
                    diagnostics.Add(new DiagnosticInfo(DiagnosticIds.InvalidNetworkClass, problem, LocationInfo.From(syntax.Identifier)));
                    return Done(emit: false);
                }

                // Own layers: the pruned network's layers are its base's; its own would be ignored.
                var own = false;
                foreach (var other in symbol.GetAttributes())
                {
                    if (other.AttributeClass is not { } type || other.ApplicationSyntaxReference is not { } where)
                    {
                        continue;
                    }

                    var isNetwork = type.Name == "NetworkAttribute" && type.ContainingNamespace.ToDisplayString() == "PruneGen";
                    if (isNetwork || Parser.IsLayerAttribute(type))
                    {
                        own = true;
                        var shortName = type.Name.Substring(0, type.Name.Length - "Attribute".Length);
                        diagnostics.Add(new DiagnosticInfo(PrunedNetworkDiagnostics.OwnLayers,
                            isNetwork
                                ? $"'{symbol.Name}' has both [Network] and [PrunedNetwork]; a pruned network takes its layers from its base '{baseType?.Name}'. Remove [Network] and the layer attributes, or remove [PrunedNetwork]."
                                : $"Layer attribute [{shortName}] on pruned network '{symbol.Name}' has no effect: its layers are those of its base '{baseType?.Name}' with the plan applied. Remove it (change the base, or the plan, instead).",
                            LocationInfo.From(where.GetSyntax(cancellationToken))));
                    }
                }

                if (own)
                {
                    return Done(emit: false);
                }

                if (baseType is null || baseType.TypeKind == TypeKind.Error)
                {
                    // The compiler reports the unknown type (or a null argument) itself.
                    return Done(emit: true);
                }

                var baseAttribute = baseType.GetAttributes().FirstOrDefault(x => x.AttributeClass is { Name: "NetworkAttribute" } c && c.ContainingNamespace.ToDisplayString() == "PruneGen");
                var argument = attributeLocation?.ArgumentList is { Arguments.Count: > 0 } l ? LocationInfo.From(l.Arguments[0]) : LocationInfo.From(syntax.Identifier);
                if (baseAttribute is null)
                {
                    var pruned = baseType.GetAttributes().Any(x => x.AttributeClass?.ToDisplayString() == PrunedNetworkAttributeName);
                    diagnostics.Add(new DiagnosticInfo(PrunedNetworkDiagnostics.BaseNotNetwork,
                        pruned
                            ? $"The base of pruned network '{symbol.Name}', '{baseType.Name}', is itself a pruned network; prune its [Network] base instead, with a plan that combines both prunings."
                            : $"The base of pruned network '{symbol.Name}', '{baseType.ToDisplayString()}', is not a [Network] class; name the [Network] class the plan was made for, e.g. [PrunedNetwork(typeof(MyNet), \"{planPath}\")].",
                        argument));
                    return Done(emit: true);
                }

                // A base in a referenced assembly is read the same way: its attributes come back from metadata
                // in declaration order. Its problems were never reported (the generator that built that assembly
                // may be another version, or none ran), so here they are, at the typeof argument.
                var (declaration, unreadable) = ReadBase(baseType, baseAttribute, cancellationToken);
                if (unreadable is not null && baseType.Locations.All(x => !x.IsInSource))
                {
                    diagnostics.Add(new DiagnosticInfo(PrunedNetworkDiagnostics.BaseNotReadable,
                        $"The base of pruned network '{symbol.Name}', '{baseType.ToDisplayString()}' (assembly {baseType.ContainingAssembly?.Name}), cannot be compiled: {unreadable} Rebuild that assembly with this version of PruneGen, or fix its declaration.",
                        argument));
                }

                return Done(emit: true, declaration);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                diagnostics.Add(new DiagnosticInfo(DiagnosticIds.InternalError,
                    $"PruneGen failed to generate pruned network '{symbol.Name}': {ex.GetType().Name}: {ex.Message}. Please report this with the declaration and the plan.",
                    LocationInfo.From(syntax.Identifier)));
                return Done(emit: true);
            }
        }

        /// <summary>
        /// The base's declaration, read like the base's own [Network] parse does, or null and why not. A base
        /// declared in source reports its own problems (once, at the base: the pruned class then only gets its
        /// throwing surface); for a base from a referenced assembly the reason becomes PG0035.
        /// </summary>
        private static (NetworkDeclaration? Declaration, string? Problem) ReadBase(INamedTypeSymbol baseType, AttributeData networkAttribute, CancellationToken cancellationToken)
        {
            if (Parser.HasErrors(networkAttribute))
            {
                return (null, "its [Network] attribute cannot be read (the PruneGen it was built against differs from this one).");
            }

            var args = networkAttribute.ConstructorArguments;
            int channels = 0, height = 1, width = 1;
            if (args.Length == 1 && args[0].Value is int length)
            {
                channels = length;
            }
            else if (args.Length == 3 && args[0].Value is int c && args[1].Value is int h && args[2].Value is int w)
            {
                (channels, height, width) = (c, h, w);
            }

            var layers = new List<LayerDeclaration>();
            foreach (var attribute in baseType.GetAttributes())
            {
                cancellationToken.ThrowIfCancellationRequested();
                var type = attribute.AttributeClass;
                if (HasErrorsOrNotLayer(attribute, type))
                {
                    if (type is not null && Parser.IsLayerAttribute(type))
                    {
                        return (null, $"its layer attribute #{layers.Count + 1} [{ShortName(type)}] cannot be read (the PruneGen it was built against differs from this one).");
                    }

                    continue;
                }

                if (Parser.ToLayer(type!.Name, attribute, layers.Count) is not { } layer)
                {
                    return (null, $"[{ShortName(type)}] (layer #{layers.Count + 1}) is a layer kind this version of PruneGen does not understand.");
                }

                if (Parser.CheckArguments(type.Name, attribute, layer) is { } error)
                {
                    return (null, $"{error.Id}: {error.Message}");
                }

                layers.Add(layer);
            }

            var declaration = new NetworkDeclaration(baseType.Name, channels, height, width, new EquatableArray<LayerDeclaration>(layers.ToArray()));
            var errors = NetworkBuilder.Build(declaration).Errors;
            return errors.Count == 0
                ? (declaration, null)
                : (null, string.Join(" ", errors.Select(e => $"{e.Id}: {e.Message}")));
        }

        private static string ShortName(INamedTypeSymbol type) =>
            type.Name.EndsWith("Attribute", StringComparison.Ordinal) ? type.Name.Substring(0, type.Name.Length - "Attribute".Length) : type.Name;

        private static bool HasErrorsOrNotLayer(AttributeData attribute, INamedTypeSymbol? type) =>
            type is null || Parser.HasErrors(attribute) || !Parser.IsLayerAttribute(type);

        private static string? InvalidPrunedClass(INamedTypeSymbol symbol)
        {
            var name = symbol.Name;
            if (symbol.ContainingType is { } outer)
            {
                return $"Pruned network class '{name}' is nested in '{outer.Name}'; a network must be a top-level class: move it out of '{outer.Name}'.";
            }

            if (symbol.IsGenericType)
            {
                return $"Pruned network class '{name}' is generic; a network's shapes are fixed at compile time: remove its type parameters.";
            }

            if (symbol.IsStatic)
            {
                return $"Pruned network class '{name}' is static, but a network has instance state (parameters, workspace): remove 'static'.";
            }

            return symbol.IsRecord ? $"Pruned network type '{name}' is a record; declare it as 'partial class {name}'." : null;
        }

        private static string? Namespace(INamedTypeSymbol symbol) =>
            symbol.ContainingNamespace.IsGlobalNamespace ? null : symbol.ContainingNamespace.ToDisplayString();

        private static string Accessibility(INamedTypeSymbol symbol) =>
            symbol.DeclaredAccessibility == Microsoft.CodeAnalysis.Accessibility.Public ? "public" : "internal";
    }

    /// <summary>Matches a target with its plan file, validates the plan against the base, and builds the pruned graph.</summary>
    internal static class PrunedCompiler
    {
        public static PrunedResult Compile(PrunedTarget target, ImmutableArray<ParsedPlan> plans, CancellationToken cancellationToken)
        {
            var diagnostics = new List<DiagnosticInfo>(target.Diagnostics);
            var planDiagnostics = new List<PlanDiagnostic>();
            PrunedResult Result(NetworkSpec? spec) =>
                new(spec, new EquatableArray<DiagnosticInfo>(diagnostics.ToArray()), new EquatableArray<PlanDiagnostic>(planDiagnostics.ToArray()));

            if (!target.Emit)
            {
                return Result(null);
            }

            var declaration = target.BaseDeclaration;
            var surface = new NetworkSpec(target.Namespace, target.ClassName, target.Accessibility,
                declaration ?? new NetworkDeclaration(target.BaseClassName, 0, 0, 0, EquatableArray<LayerDeclaration>.Empty), null)
            {
                Pruned = new PrunedFrom(target.BaseClassName, target.PlanPath),
            };

            var file = Find(target.PlanPath, plans);
            if (file is null)
            {
                var name = FileName(target.PlanPath);
                var same = plans.Where(x => string.Equals(FileName(x.FilePath), name, StringComparison.OrdinalIgnoreCase)).Select(x => x.FilePath).ToList();
                diagnostics.Add(new DiagnosticInfo(PrunedNetworkDiagnostics.PlanNotFound,
                    same.Count > 1
                        ? $"Pruning plan '{target.PlanPath}' of '{target.ClassName}' matches no AdditionalFiles path, and several are named '{name}' ({string.Join(", ", same)}); write enough of the path to choose one, e.g. \"{same[0].Replace('\\', '/')}\"."
                        : $"Pruning plan '{target.PlanPath}' of '{target.ClassName}' is not among the project's AdditionalFiles; add it to the project file: <ItemGroup><AdditionalFiles Include=\"{target.PlanPath}\" /></ItemGroup>.",
                    target.PlanArgument));
                return Result(surface);
            }

            var prefix = $"Pruning plan for '{target.ClassName}': ";
            foreach (var problem in file.Problems)
            {
                var at = problem.Path.Length == 0 ? string.Empty : problem.Path + ": ";
                planDiagnostics.Add(new PlanDiagnostic(problem.Id, prefix + at + problem.Message, file.FilePath, problem.Span, problem.LineSpan));
            }

            if (file.Plan is not { } plan || declaration is null)
            {
                return Result(surface);
            }

            cancellationToken.ThrowIfCancellationRequested();
            var errors = PlanValidator.Validate(plan, declaration);
            foreach (var error in errors)
            {
                var node = file.Locate(error.Path);
                var at = error.Path.Length == 0 ? string.Empty : error.Path + ": ";
                planDiagnostics.Add(new PlanDiagnostic(PrunedNetworkDiagnostics.PlanDoesNotFit,
                    $"{prefix}{at}{error.Message} (base network '{target.BaseClassName}')", file.FilePath, node.Span, node.LineSpan));
            }

            if (errors.Count > 0)
            {
                return Result(surface);
            }

            var baseGraph = NetworkBuilder.BuildOrThrow(declaration);
            var overrides = PlanValidator.ToOverrides(plan, baseGraph);
            var build = NetworkBuilder.Build(declaration, overrides);
            if (build.Graph is null)
            {
                // PlanValidator already builds the pruned graph; this is a bug if reached.
                diagnostics.Add(new DiagnosticInfo(DiagnosticIds.InternalError,
                    $"PruneGen could not build pruned network '{target.ClassName}': " + string.Join("; ", build.Errors.Select(e => e.Id + ": " + e.Message)),
                    target.PlanArgument));
                return Result(surface);
            }

            return Result(surface with { Graph = build.Graph, Overrides = overrides });
        }

        /// <summary>The plan file <paramref name="planPath"/> names: the AdditionalFiles item whose path ends with it, else the only one with its file name.</summary>
        private static ParsedPlan? Find(string planPath, ImmutableArray<ParsedPlan> plans)
        {
            if (planPath.Length == 0)
            {
                return null;
            }

            var wanted = Normalize(planPath);
            var bySuffix = plans
                .Where(x => Normalize(x.FilePath) is var path && (string.Equals(path, wanted, StringComparison.OrdinalIgnoreCase) || path.EndsWith("/" + wanted, StringComparison.OrdinalIgnoreCase)))
                .OrderBy(x => x.FilePath.Length)
                .ThenBy(x => x.FilePath, StringComparer.Ordinal)
                .FirstOrDefault();
            if (bySuffix is not null)
            {
                return bySuffix;
            }

            var name = FileName(planPath);
            var byName = plans.Where(x => string.Equals(FileName(x.FilePath), name, StringComparison.OrdinalIgnoreCase)).ToList();
            return byName.Count == 1 ? byName[0] : null;
        }
    }
}
