namespace PruneGen.Compiler;

/// <summary>
/// How <see cref="PrunedNetworkCompiler"/> names what it compiles. Every name appears in the generated source,
/// so choosing them as a project would (namespace, class, plan path) gives the text the build-time generator
/// writes for <c>[PrunedNetwork(typeof(Base), "plans/x.plan.json")] partial class X;</c> in that project.
/// </summary>
public sealed record PrunedNetworkCompilerOptions
{
    /// <summary>The pruned class's name; null: the base's name followed by <c>Pruned</c> (<c>VggNetPruned</c>).</summary>
    public string? ClassName { get; init; }

    /// <summary>The pruned class's namespace (default <c>PruneGen.Compiled</c>); empty for the global namespace.</summary>
    public string Namespace { get; init; } = "PruneGen.Compiled";

    /// <summary>
    /// The plan's path as the <c>[PrunedNetwork]</c> attribute names it (default <c>plan.json</c>). It is only a
    /// name here (the plan is passed in memory), but the generated source quotes it, so give the file the plan is
    /// saved as, to make the saved class say where it came from.
    /// </summary>
    public string PlanPath { get; init; } = "plan.json";
}
