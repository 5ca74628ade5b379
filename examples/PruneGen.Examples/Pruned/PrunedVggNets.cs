using PruneGen;

namespace PruneGen.Examples.Networks;

/// <summary>
/// <see cref="VggNet"/> pruned to half its MACs by L1 magnitude (uniform allocation; the plan the main job
/// writes for <c>--criteria l1 --macs-reduction 2</c> on the 93.23 % checkpoint). Compiled from the plan:
/// every pruned width is a constant, so this is dense, smaller code.
/// </summary>
[PrunedNetwork(typeof(VggNet), "Pruned/Plans/vgg.l1.2x.plan.json")]
public partial class VggNetL1Half;

/// <summary><see cref="VggNet"/> pruned to a quarter of its MACs by L1 magnitude (uniform allocation).</summary>
[PrunedNetwork(typeof(VggNet), "Pruned/Plans/vgg.l1.4x.plan.json")]
public partial class VggNetL1Quarter;
