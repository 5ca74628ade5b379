using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace PruneGen.Generators.Diagnostics;

/// <summary>
/// The rules of <c>[PrunedNetwork]</c> (PG0030…): the plan file (found, JSON, structure, fit to the base)
/// and the class (its base, its own attributes). Plan problems are reported inside the plan file, at the
/// JSON node they are about.
/// </summary>
internal static class PrunedNetworkDiagnostics
{
    /// <summary>PG0030: the plan file is not among the AdditionalFiles.</summary>
    public const string PlanNotFound = "PG0030";

    /// <summary>PG0031: the plan file is not valid JSON.</summary>
    public const string PlanNotJson = "PG0031";

    /// <summary>PG0032: the plan file is JSON but not a well-formed plan (missing or mistyped properties, format, version).</summary>
    public const string PlanMalformed = "PG0032";

    /// <summary>PG0033: the plan does not fit the base network (unknown groups or blocks, channel counts, indices).</summary>
    public const string PlanDoesNotFit = "PG0033";

    /// <summary>PG0034: the base type is not a <c>[Network]</c> class.</summary>
    public const string BaseNotNetwork = "PG0034";

    /// <summary>
    /// PG0035: the base network is declared in a referenced assembly and its declaration cannot be compiled
    /// (a layer kind or attribute this PruneGen does not know, or a declaration with errors nobody reported).
    /// </summary>
    public const string BaseNotReadable = "PG0035";

    /// <summary>PG0036: the pruned class declares layers (or <c>[Network]</c>) of its own.</summary>
    public const string OwnLayers = "PG0036";

    private const string Category = "PruneGen";

    private static readonly Dictionary<string, DiagnosticDescriptor> ById = new();

    /// <summary>PG0030.</summary>
    public static readonly DiagnosticDescriptor PlanNotFoundRule = Rule(PlanNotFound, "Pruning plan file not found");

    /// <summary>PG0031.</summary>
    public static readonly DiagnosticDescriptor PlanNotJsonRule = Rule(PlanNotJson, "Pruning plan is not valid JSON");

    /// <summary>PG0032.</summary>
    public static readonly DiagnosticDescriptor PlanMalformedRule = Rule(PlanMalformed, "Pruning plan is malformed");

    /// <summary>PG0033.</summary>
    public static readonly DiagnosticDescriptor PlanDoesNotFitRule = Rule(PlanDoesNotFit, "Pruning plan does not fit the base network");

    /// <summary>PG0034.</summary>
    public static readonly DiagnosticDescriptor BaseNotNetworkRule = Rule(BaseNotNetwork, "Base of a pruned network is not a [Network]");

    /// <summary>PG0035.</summary>
    public static readonly DiagnosticDescriptor BaseNotReadableRule = Rule(BaseNotReadable, "Base network from a referenced assembly cannot be compiled");

    /// <summary>PG0036.</summary>
    public static readonly DiagnosticDescriptor OwnLayersRule = Rule(OwnLayers, "Pruned network declares its own layers");

    /// <summary>The descriptor for <paramref name="id"/>: one of these rules, else one of <see cref="DiagnosticDescriptors"/>.</summary>
    public static DiagnosticDescriptor Get(string id) => ById.TryGetValue(id, out var d) ? d : DiagnosticDescriptors.Get(id);

    private static DiagnosticDescriptor Rule(string id, string title)
    {
        var descriptor = new DiagnosticDescriptor(id, title, "{0}", Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
        ById[id] = descriptor;
        return descriptor;
    }
}
