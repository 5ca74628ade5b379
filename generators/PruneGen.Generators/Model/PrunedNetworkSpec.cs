using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using PruneGen.Generators.Plans;
using PruneGen.Model;

namespace PruneGen.Generators.Model;

/// <summary>What a pruned network says about its origin (for the generated comments).</summary>
/// <param name="BaseClassName">The <c>[Network]</c> class it prunes.</param>
/// <param name="PlanPath">The plan file as written in the attribute.</param>
internal sealed record PrunedFrom(string BaseClassName, string PlanPath);

/// <summary>
/// One <c>[PrunedNetwork]</c> class as read from its attributes and its base's: everything the compile
/// step needs besides the plan. Holds syntax trees (for the C# locations of its diagnostics), so it
/// changes when the class's file is edited; the compile step is cheap and its spec output compares equal then.
/// </summary>
/// <param name="Namespace">The class's namespace, or null.</param>
/// <param name="ClassName">The pruned class's name.</param>
/// <param name="Accessibility">Its accessibility keyword.</param>
/// <param name="BaseClassName">The base type's name.</param>
/// <param name="PlanPath">The plan path as written.</param>
/// <param name="BaseDeclaration">The base network's declaration, or null when it cannot be used (not a network, errors, another assembly).</param>
/// <param name="PlanArgument">Where the plan path is written (PG0030 is reported there).</param>
/// <param name="Diagnostics">Problems with the class or its base.</param>
/// <param name="Emit">Whether anything may be emitted for the class (false: not partial, nested, also a [Network]...).</param>
internal sealed record PrunedTarget(
    string? Namespace,
    string ClassName,
    string Accessibility,
    string BaseClassName,
    string PlanPath,
    NetworkDeclaration? BaseDeclaration,
    LocationInfo PlanArgument,
    EquatableArray<DiagnosticInfo> Diagnostics,
    bool Emit);

/// <summary>A diagnostic inside a plan file (an AdditionalFiles item, so an external location built from its path and span).</summary>
/// <param name="Id">The rule.</param>
/// <param name="Message">The message.</param>
/// <param name="FilePath">The plan file.</param>
/// <param name="Span">Character span.</param>
/// <param name="LineSpan">Line and column span.</param>
internal sealed record PlanDiagnostic(string Id, string Message, string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    /// <summary>The location inside the plan file.</summary>
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);
}

/// <summary>A pruned network compiled against its plan: the spec to emit, and what to report.</summary>
/// <param name="Spec">What to emit (null: nothing may be emitted; a spec without graph: the throwing surface).</param>
/// <param name="Diagnostics">Diagnostics in C# source (the class, its base, a missing plan).</param>
/// <param name="PlanDiagnostics">Diagnostics inside the plan file.</param>
internal sealed record PrunedResult(NetworkSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics, EquatableArray<PlanDiagnostic> PlanDiagnostics);
