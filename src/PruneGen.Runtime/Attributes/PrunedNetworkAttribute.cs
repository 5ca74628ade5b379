using System;

namespace PruneGen;

/// <summary>
/// Marks a <c>partial</c> class as the compiled, pruned version of a <c>[Network]</c>: the source
/// generator reads the base network's declaration and the pruning plan (a JSON file listed as an
/// <c>AdditionalFiles</c> item), checks the plan against the base, and emits the pruned network with
/// every pruned width constant. The class has the same API as a generated network; its parameters
/// keep the base's names, so the weights <c>PlanSlicer.Slice</c> produces load into it by name.
/// </summary>
/// <example>
/// <code>
/// // In the project file: &lt;AdditionalFiles Include="plans/vgg.plan.json" /&gt;
/// [PrunedNetwork(typeof(VggNet), "plans/vgg.plan.json")]
/// public partial class VggNetPruned;
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class PrunedNetworkAttribute : Attribute
{
    /// <summary>Prunes <paramref name="baseNetwork"/> (a <c>[Network]</c> class of this project) with the plan in <paramref name="planPath"/>.</summary>
    /// <param name="baseNetwork">The <c>[Network]</c> class the plan was made for.</param>
    /// <param name="planPath">The plan file, as listed in <c>AdditionalFiles</c>; matched by path suffix (e.g. <c>plans/vgg.plan.json</c>), else by file name.</param>
    public PrunedNetworkAttribute(Type baseNetwork, string planPath) => (BaseNetwork, PlanPath) = (baseNetwork, planPath);

    /// <summary>The <c>[Network]</c> class the plan prunes.</summary>
    public Type BaseNetwork { get; }

    /// <summary>The plan file (see <c>PruneGen.Pruning.PlanFile</c> for the format).</summary>
    public string PlanPath { get; }
}
