using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using PruneGen.Generators.Diagnostics;

namespace PruneGen.Generators.Analyzers;

/// <summary>
/// PG0016 for layer attributes, and budget or shape-check attributes (<c>[MaxMacs]</c>, <c>[ExpectShape]</c>…),
/// on a class without <c>[Network]</c> (or <c>[PrunedNetwork]</c>, where the generator reports PG0036): the
/// generator only looks at those classes, so such attributes would silently do nothing (a budget that is never
/// checked is worse than none). Reported at each attribute, like the generator's own layer diagnostics.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LayerAttributeUsageAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.InvalidNetworkClass);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var layerAttribute = start.Compilation.GetTypeByMetadataName("PruneGen.LayerAttribute");
            var networkAttribute = start.Compilation.GetTypeByMetadataName("PruneGen.NetworkAttribute");
            var prunedAttribute = start.Compilation.GetTypeByMetadataName("PruneGen.PrunedNetworkAttribute");
            if (layerAttribute is null || networkAttribute is null)
            {
                return; // PruneGen is not referenced.
            }

            start.RegisterSymbolAction(c => AnalyzeType(c, layerAttribute, networkAttribute, prunedAttribute), SymbolKind.NamedType);
        });
    }

    private static void AnalyzeType(SymbolAnalysisContext context, INamedTypeSymbol layerAttribute, INamedTypeSymbol networkAttribute, INamedTypeSymbol? prunedAttribute)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        var attributes = type.GetAttributes();
        if (attributes.IsEmpty)
        {
            return;
        }

        foreach (var a in attributes)
        {
            // A [PrunedNetwork] with layer attributes is the generator's PG0036.
            if (SymbolEqualityComparer.Default.Equals(a.AttributeClass, networkAttribute) || SymbolEqualityComparer.Default.Equals(a.AttributeClass, prunedAttribute))
            {
                return;
            }
        }

        foreach (var a in attributes)
        {
            if (a.AttributeClass is not { } attributeClass || a.ApplicationSyntaxReference is not { } syntax)
            {
                continue;
            }

            var budget = NetworkGenerator.Budgets.IsBudgetAttribute(attributeClass);
            if (!budget && !DerivesFrom(attributeClass, layerAttribute))
            {
                continue;
            }

            var shortName = attributeClass.Name.EndsWith("Attribute", System.StringComparison.Ordinal)
                ? attributeClass.Name.Substring(0, attributeClass.Name.Length - "Attribute".Length)
                : attributeClass.Name;
            var message = budget
                ? $"Attribute [{shortName}] on '{type.Name}' checks nothing: '{type.Name}' is not a network. Add [Network(...)] with the input shape and the layer attributes to the class (and make it partial), or remove [{shortName}]."
                : $"Layer attribute [{shortName}] on '{type.Name}' has no effect: '{type.Name}' is not a network. Add [Network(...)] with the input shape to the class (and make it partial), or remove the layer attributes.";
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InvalidNetworkClass, Location.Create(syntax.SyntaxTree, syntax.Span), message));
        }
    }

    private static bool DerivesFrom(INamedTypeSymbol type, INamedTypeSymbol baseType)
    {
        for (var t = type.BaseType; t is not null; t = t.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(t, baseType))
            {
                return true;
            }
        }

        return false;
    }
}
