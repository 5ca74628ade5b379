using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using PruneGen.Generators.Model;
using PruneGen.Model;

namespace PruneGen.Generators;

public sealed partial class NetworkGenerator
{
    /// <summary>Reads a <c>[Network]</c> class's attributes into a <see cref="NetworkSpec"/> and its diagnostics.</summary>
    internal static class Parser
    {
        private const string AttributeNamespace = "PruneGen";

        public static ParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            var syntax = (TypeDeclarationSyntax)context.TargetNode;
            var symbol = (INamedTypeSymbol)context.TargetSymbol;
            try
            {
                return ParseCore(context, syntax, symbol, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A generator exception would only surface as warning CS8785 and silently drop the
                // output; report it as an error and still emit the surface.
                var diag = new DiagnosticInfo(DiagnosticIds.InternalError,
                    $"PruneGen failed to generate network '{symbol.Name}': {ex.GetType().Name}: {ex.Message}. Please report this with the declaration.",
                    LocationInfo.From(syntax.Identifier));
                var spec = new NetworkSpec(Namespace(symbol), symbol.Name, Accessibility(symbol),
                    new NetworkDeclaration(symbol.Name, 0, 0, 0, EquatableArray<LayerDeclaration>.Empty), null);
                return new ParseResult(spec, new EquatableArray<DiagnosticInfo>(new[] { diag }));
            }
        }

        private static ParseResult ParseCore(GeneratorAttributeSyntaxContext context, TypeDeclarationSyntax syntax, INamedTypeSymbol symbol, CancellationToken cancellationToken)
        {
            var diagnostics = new List<DiagnosticInfo>();
            var networkAttribute = context.Attributes[0];
            var networkLocation = Where(networkAttribute, cancellationToken) ?? LocationInfo.From(syntax.Identifier);

            if (!symbol.DeclaringSyntaxReferences.Any(r => r.GetSyntax(cancellationToken) is TypeDeclarationSyntax c && c.Modifiers.Any(SyntaxKind.PartialKeyword)))
            {
                diagnostics.Add(new DiagnosticInfo(DiagnosticIds.NotPartial,
                    $"Network class '{symbol.Name}' must be declared 'partial' so PruneGen can add its generated members: write 'partial class {symbol.Name}'.",
                    LocationInfo.From(syntax.Identifier)));
                return new ParseResult(null, new EquatableArray<DiagnosticInfo>(diagnostics.ToArray()));
            }

            if (InvalidClass(symbol) is { } problem)
            {
                diagnostics.Add(new DiagnosticInfo(DiagnosticIds.InvalidNetworkClass, problem, LocationInfo.From(syntax.Identifier)));
                return new ParseResult(null, new EquatableArray<DiagnosticInfo>(diagnostics.ToArray()));
            }

            // An attribute the compiler cannot bind (unknown type, bad argument) is the compiler's
            // error to report; shape errors computed from its guessed values would only be noise.
            var compilerErrors = HasErrors(networkAttribute);
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
            var locations = new List<LocationInfo?>();
            var budgets = new Budgets(symbol.Name);
            var unknownKinds = false;
            foreach (var attribute in symbol.GetAttributes())
            {
                cancellationToken.ThrowIfCancellationRequested();
                var type = attribute.AttributeClass;
                if (HasErrors(attribute))
                {
                    // The C# compiler already reports the malformed attribute; do not add noise.
                    compilerErrors = true;
                    continue;
                }

                if (type is not null && Budgets.IsBudgetAttribute(type))
                {
                    budgets.Add(attribute, Where(attribute, cancellationToken) ?? networkLocation);
                    continue;
                }

                if (type is null || !IsLayerAttribute(type))
                {
                    continue;
                }

                var location = Where(attribute, cancellationToken) ?? networkLocation;
                var layer = ToLayer(type.Name, attribute, layers.Count);
                if (layer is null)
                {
                    unknownKinds = true;
                    diagnostics.Add(new DiagnosticInfo(DiagnosticIds.InvalidSequence,
                        $"Attribute '{type.Name}' on network '{symbol.Name}' is a layer kind this version of PruneGen does not understand; remove it or update PruneGen.",
                        location));
                    continue;
                }

                if (CheckArguments(type.Name, attribute, layer) is { } argumentError)
                {
                    diagnostics.Add(new DiagnosticInfo(argumentError.Id, argumentError.Message, location));
                }

                layers.Add(layer);
                locations.Add(location);
            }

            var declaration = new NetworkDeclaration(symbol.Name, channels, height, width, new EquatableArray<LayerDeclaration>(layers.ToArray()));
            var result = NetworkBuilder.Build(declaration);
            foreach (var error in result.Errors)
            {
                if (compilerErrors || (unknownKinds && error.Id == DiagnosticIds.EmptyNetwork))
                {
                    // Consequences of what was already reported (by the compiler, or just above).
                    continue;
                }

                var at = error.DeclarationIndex >= 0 && error.DeclarationIndex < locations.Count ? locations[error.DeclarationIndex] : networkLocation;
                diagnostics.Add(new DiagnosticInfo(error.Id, error.Message, at ?? networkLocation));
            }

            // Budget diagnostics do not stop emission: the code is valid, it only costs too much, and the
            // user's code that uses its constants keeps compiling while they prune or raise the budget.
            var graph = diagnostics.Count == 0 ? result.Graph : null;
            if (graph is not null && !compilerErrors)
            {
                budgets.Check(graph);
            }

            diagnostics.AddRange(budgets.Diagnostics);
            var model = budgets.ToModel();
            var spec = new NetworkSpec(Namespace(symbol), symbol.Name, Accessibility(symbol), declaration, graph, model.IsEmpty ? null : model);
            return new ParseResult(spec, new EquatableArray<DiagnosticInfo>(diagnostics.ToArray()));
        }

        /// <summary>Why <paramref name="symbol"/> cannot hold a network (PG0016), or null.</summary>
        private static string? InvalidClass(INamedTypeSymbol symbol)
        {
            var name = symbol.Name;
            if (symbol.ContainingType is { } outer)
            {
                return $"Network class '{name}' is nested in '{outer.Name}'; a network must be a top-level class: move it out of '{outer.Name}'.";
            }

            if (symbol.IsGenericType)
            {
                return $"Network class '{name}' is generic; a network's shapes are fixed at compile time: remove its type parameters.";
            }

            if (symbol.IsStatic)
            {
                return $"Network class '{name}' is static, but a network has instance state (parameters, workspace): remove 'static'.";
            }

            if (symbol.IsRecord)
            {
                return $"Network type '{name}' is a record; declare it as 'partial class {name}'.";
            }

            return null;
        }

        /// <summary>Whether the compiler could not bind <paramref name="attribute"/> or one of its arguments (it reports that itself).</summary>
        internal static bool HasErrors(AttributeData attribute) =>
            attribute.AttributeClass is null or { TypeKind: TypeKind.Error }
            || attribute.AttributeConstructor is null
            || attribute.ConstructorArguments.Any(a => a.Kind == TypedConstantKind.Error)
            || attribute.NamedArguments.Any(a => a.Value.Kind == TypedConstantKind.Error)
            || attribute.NamedArguments.Select(a => a.Key).Distinct().Count() != attribute.NamedArguments.Length;

        /// <summary>
        /// Checks what the declaration model cannot express: an explicit 0 where the model reads 0 as
        /// "the default" (stride, multiplier), an empty name where the attribute requires one (those
        /// layers own parameters, keyed by name), and an add with nothing to add.
        /// </summary>
        internal static (string Id, string Message)? CheckArguments(string attributeName, AttributeData a, LayerDeclaration layer)
        {
            var kind = attributeName.Substring(0, attributeName.Length - "Attribute".Length);
            var name = layer.Name;
            bool ExplicitZero(string key) => a.NamedArguments.Any(p => p.Key == key && p.Value.Value is 0);

            if (attributeName is "DenseAttribute" or "Conv2DAttribute" or "DepthwiseConv2DAttribute" or "BatchNormAttribute" or "AddAttribute" or "ConcatAttribute" && name.Length == 0)
            {
                return (DiagnosticIds.InvalidName, $"{kind} layer #{layer.DeclarationIndex + 1} has an empty name; give it a name such as '{kind.ToLowerInvariant()}{layer.DeclarationIndex + 1}' (the name keys its parameters and plans).");
            }

            if (attributeName is "Conv2DAttribute" or "DepthwiseConv2DAttribute" or "ResidualBlockAttribute" && ExplicitZero("Stride"))
            {
                return (DiagnosticIds.NonPositiveSize, $"{kind} layer '{name}' has stride 0; the stride must be at least 1 (leave Stride unset for the default 1).");
            }

            if (attributeName == "DepthwiseConv2DAttribute" && ExplicitZero("Multiplier"))
            {
                return (DiagnosticIds.NonPositiveSize, $"DepthwiseConv2D layer '{name}' has channel multiplier 0; it must be at least 1 (leave Multiplier unset for the default 1).");
            }

            if (attributeName == "AddAttribute" && layer.Inputs.Count == 0)
            {
                return (DiagnosticIds.InvalidArgument, $"Add layer '{name}' names no layer to add; name the shortcut it adds to the previous layer, e.g. [Add(\"{name}\", \"shortcut\")], or two or more layers to sum.");
            }

            return null;
        }

        internal static bool IsLayerAttribute(INamedTypeSymbol type)
        {
            for (var t = type.BaseType; t is not null; t = t.BaseType)
            {
                if (t.Name == "LayerAttribute" && t.ContainingNamespace.ToDisplayString() == AttributeNamespace)
                {
                    return true;
                }
            }

            return false;
        }

        internal static LayerDeclaration? ToLayer(string attributeName, AttributeData a, int index)
        {
            var ctor = a.ConstructorArguments;
            var named = new Dictionary<string, object?>();
            foreach (var p in a.NamedArguments)
            {
                named[p.Key] = p.Value.Value;
            }

            string Str(int i) => ctor.Length > i && ctor[i].Value is string s ? s : string.Empty;
            int Int(int i) => ctor.Length > i && ctor[i].Value is int v ? v : 0;
            double Dbl(int i) => ctor.Length > i && ctor[i].Value is double v ? v : 0;
            int NamedInt(string key, int fallback) => named.TryGetValue(key, out var v) && v is int i ? i : fallback;
            bool NamedBool(string key, bool fallback) => named.TryGetValue(key, out var v) && v is bool b ? b : fallback;
            var name = named.TryGetValue("Name", out var n) && n is string nn ? nn : string.Empty;
            var inputs = named.TryGetValue("Input", out var input) && input is string inp ? new[] { inp } : Array.Empty<string>();

            EquatableArray<string> Inputs(string[] names) => new(names);

            EquatableArray<string> ParamsInputs()
            {
                if (ctor.Length > 1 && ctor[1].Kind == TypedConstantKind.Array && !ctor[1].IsNull)
                {
                    return Inputs(ctor[1].Values.Select(v => v.Value as string ?? string.Empty).ToArray());
                }

                return Inputs(Array.Empty<string>());
            }

            LayerDeclaration Simple(LayerKind kind, double alpha = 0) => new(name, kind, Inputs(inputs), Alpha: alpha, DeclarationIndex: index);

            return attributeName switch
            {
                "DenseAttribute" => new LayerDeclaration(Str(0), LayerKind.Dense, Inputs(inputs), Int(1), Bias: NamedBool("Bias", true), DeclarationIndex: index),
                "Conv2DAttribute" => new LayerDeclaration(Str(0), LayerKind.Conv2D, Inputs(inputs), Int(1), Int(2), NamedInt("Stride", 1), NamedInt("Padding", 0), NamedInt("Groups", 1), NamedBool("Bias", true), DeclarationIndex: index),
                "DepthwiseConv2DAttribute" => new LayerDeclaration(Str(0), LayerKind.DepthwiseConv2D, Inputs(inputs), NamedInt("Multiplier", 1), Int(1), NamedInt("Stride", 1), NamedInt("Padding", 0), 1, NamedBool("Bias", true), DeclarationIndex: index),
                "BatchNormAttribute" => new LayerDeclaration(Str(0), LayerKind.BatchNorm, Inputs(inputs), DeclarationIndex: index),
                "ReLUAttribute" => Simple(LayerKind.ReLU),
                "LeakyReLUAttribute" => Simple(LayerKind.LeakyReLU, ctor.Length > 0 ? Dbl(0) : 0.01),
                "SigmoidAttribute" => Simple(LayerKind.Sigmoid),
                "TanhAttribute" => Simple(LayerKind.Tanh),
                "MaxPool2DAttribute" => new LayerDeclaration(name, LayerKind.MaxPool2D, Inputs(inputs), 0, Int(0), NamedInt("Stride", 0), NamedInt("Padding", 0), DeclarationIndex: index),
                "AvgPool2DAttribute" => new LayerDeclaration(name, LayerKind.AvgPool2D, Inputs(inputs), 0, Int(0), NamedInt("Stride", 0), NamedInt("Padding", 0), DeclarationIndex: index),
                "GlobalAvgPoolAttribute" => Simple(LayerKind.GlobalAvgPool),
                "FlattenAttribute" => Simple(LayerKind.Flatten),
                "DropoutAttribute" => Simple(LayerKind.Dropout, Dbl(0)),
                "SoftmaxAttribute" => Simple(LayerKind.Softmax),
                "AddAttribute" => new LayerDeclaration(Str(0), LayerKind.Add, ParamsInputs(), DeclarationIndex: index),
                "ConcatAttribute" => new LayerDeclaration(Str(0), LayerKind.Concat, ParamsInputs(), DeclarationIndex: index),
                "ResidualBlockAttribute" => new LayerDeclaration(Str(0), LayerKind.ResidualBlock, Inputs(inputs), Int(1), 3, NamedInt("Stride", 1), 1, DeclarationIndex: index),
                _ => null,
            };
        }

        private static LocationInfo? Where(AttributeData attribute, CancellationToken cancellationToken) =>
            attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is { } node ? LocationInfo.From(node) : null;

        private static string? Namespace(INamedTypeSymbol symbol) =>
            symbol.ContainingNamespace.IsGlobalNamespace ? null : symbol.ContainingNamespace.ToDisplayString();

        private static string Accessibility(INamedTypeSymbol symbol) => symbol.DeclaredAccessibility switch
        {
            Microsoft.CodeAnalysis.Accessibility.Public => "public",
            _ => "internal",
        };

        internal static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
    }
}
