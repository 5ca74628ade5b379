using PruneGen;
using PruneGen.Examples.Networks;

namespace PruneGen.Deploy;

/// <summary>
/// <see cref="VggNet"/> pruned to half its MACs by L1 magnitude (the plan <c>vgg.l1.2x.plan.json</c>), fine-tuned
/// (92.72 % Fashion-MNIST test accuracy), with its weights embedded: <c>VggNetL1Half.LoadEmbedded()</c> is ready to run.
/// </summary>
[PrunedNetwork(typeof(VggNet), "Pruned/Plans/vgg.l1.2x.plan.json")]
[EmbeddedWeights("VggNetL1Half.safetensors")]
public partial class VggNetL1Half;
