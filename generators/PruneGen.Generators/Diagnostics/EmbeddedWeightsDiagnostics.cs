using Microsoft.CodeAnalysis;

namespace PruneGen.Generators.Diagnostics;

/// <summary>The rules of <c>[EmbeddedWeights]</c> (PG0037…), reported at the attribute or its argument.</summary>
internal static class EmbeddedWeightsDiagnostics
{
    /// <summary>PG0037: <c>[EmbeddedWeights]</c> on a class that is neither a <c>[Network]</c> nor a <c>[PrunedNetwork]</c>.</summary>
    public const string NotNetwork = "PG0037";

    /// <summary>PG0038: the resource name is empty, blank or has surrounding white space.</summary>
    public const string InvalidResourceName = "PG0038";

    private const string Category = "PruneGen";

    /// <summary>PG0037.</summary>
    public static readonly DiagnosticDescriptor NotNetworkRule = Rule(NotNetwork, "Embedded weights on a class that is not a network");

    /// <summary>PG0038.</summary>
    public static readonly DiagnosticDescriptor InvalidResourceNameRule = Rule(InvalidResourceName, "Invalid embedded weights resource name");

    /// <summary>The descriptor for <paramref name="id"/>.</summary>
    public static DiagnosticDescriptor Get(string id) => id switch
    {
        NotNetwork => NotNetworkRule,
        InvalidResourceName => InvalidResourceNameRule,
        _ => DiagnosticDescriptors.Get(id),
    };

    private static DiagnosticDescriptor Rule(string id, string title) =>
        new(id, title, "{0}", Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
}
