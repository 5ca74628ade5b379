using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using PruneGen.Model;

namespace PruneGen.Generators.Model;

/// <summary>
/// Everything the emitter needs for one network, and nothing it does not: no symbols, syntax nodes
/// or compilation, so that equal declarations compare equal and the emit step stays cached.
/// </summary>
/// <param name="Namespace">The class's namespace, or null for the global namespace.</param>
/// <param name="ClassName">The class's name.</param>
/// <param name="Accessibility">The class's accessibility keyword(s).</param>
/// <param name="Declaration">The declared network.</param>
/// <param name="Graph">The built graph, or null when the declaration has errors (then only the public surface is emitted).</param>
/// <param name="Budgets">Compile-time budgets and shape expectations declared on the class (null: none); the summary lists them.</param>
internal sealed record NetworkSpec(string? Namespace, string ClassName, string Accessibility, NetworkDeclaration Declaration, NetworkGraph? Graph, NetworkBudgets? Budgets = null)
{
    /// <summary>For a <c>[PrunedNetwork]</c>: the builder overrides its plan gives (the runtime graph is built with them too).</summary>
    public NetworkOverrides? Overrides { get; init; }

    /// <summary>For a <c>[PrunedNetwork]</c>: its base network and plan file (null for a <c>[Network]</c>).</summary>
    public PrunedFrom? Pruned { get; init; }

    /// <summary>
    /// True when the compilation has no training runtime (<c>PruneGen.ITrainableNetwork</c> is not referenced,
    /// e.g. a library that references only PruneGen.Runtime): only the inference surface is emitted, with no
    /// <c>TrainForward</c>/<c>Backward</c> and no training workspace. Set at the output step, from the compilation.
    /// </summary>
    public bool InferenceOnly { get; init; }

    /// <summary>File name of the generated source.</summary>
    public string HintName => (Namespace is null ? ClassName : $"{Namespace}.{ClassName}") + ".PruneGen.g.cs";
}

/// <summary>A source location kept as tree + span; equality is by tree identity, which changes exactly when the file is edited.</summary>
/// <param name="Tree">The syntax tree.</param>
/// <param name="Span">The span inside it.</param>
internal sealed record LocationInfo(SyntaxTree Tree, TextSpan Span)
{
    /// <summary>A real source location (so <c>#pragma warning disable</c> works on it).</summary>
    public Location ToLocation() => Location.Create(Tree, Span);

    /// <summary>The location of <paramref name="node"/>.</summary>
    public static LocationInfo From(SyntaxNode node) => new(node.SyntaxTree, node.Span);

    /// <summary>The location of <paramref name="token"/>.</summary>
    public static LocationInfo From(SyntaxToken token) => new(token.SyntaxTree!, token.Span);
}

/// <summary>A diagnostic to report: which rule, the message, and where.</summary>
/// <param name="Id">The rule's ID.</param>
/// <param name="Message">The formatted message.</param>
/// <param name="Location">Where it applies, or null for none.</param>
internal sealed record DiagnosticInfo(string Id, string Message, LocationInfo? Location);

/// <summary>The result of parsing one <c>[Network]</c> class.</summary>
/// <param name="Spec">What to emit (null when nothing can be emitted, e.g. the class is not partial).</param>
/// <param name="Diagnostics">What to report.</param>
internal sealed record ParseResult(NetworkSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics);
