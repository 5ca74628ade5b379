// Bases and their compiled pruned networks. The plans are AdditionalFiles (see the project file); the
// generator checks each plan against its base at compile time and emits the pruned network with the
// pruned widths as constants.
namespace PruneGen.Tests.Compiled;

// 3×12×12 → conv 8 → BN → ReLU → pool (8×6×6) → conv 16 → BN → ReLU → pool (16×3×3) → flatten 144 → dense 24 → 5.
[Network(3, 12, 12)]
[Conv2D("conv1", 8, 3, Padding = 1), BatchNorm("bn1"), ReLU, MaxPool2D(2)]
[Conv2D("conv2", 16, 3, Padding = 1), BatchNorm("bn2"), ReLU, MaxPool2D(2)]
[Flatten]
[Dense("fc1", 24), ReLU]
[Dense("logits", 5)]
public partial class CompiledVgg;

// conv1 keeps 5 of 8, conv2 9 of 16 (flatten 81), fc1 10 of 24.
[PrunedNetwork(typeof(CompiledVgg), "Compiled/Plans/vgg.plan.json")]
public partial class CompiledVggPruned;

// 2×8×8 → stem 8 → b1 (8) → b2 (8, identity shortcut) → b3 (12, stride 2, projection) → GAP → 4.
[Network(2, 8, 8)]
[Conv2D("stem", 8, 3, Padding = 1, Bias = false), BatchNorm("stem_bn"), ReLU]
[ResidualBlock("b1", 8), ResidualBlock("b2", 8)]
[ResidualBlock("b3", 12, Stride = 2)]
[GlobalAvgPool]
[Dense("logits", 4)]
public partial class CompiledResNet;

// Block b2 removed; the residual stream keeps 6 of 8, b1's inner width 4 of 8, b3's 6 of 12.
[PrunedNetwork(typeof(CompiledResNet), "res.plan.json")]
public partial class CompiledResNetPruned;

// Layers conv2 (with bn2 and its ReLU) and fc1 (with its ReLU) removed; conv1's channels now feed conv3
// directly (3 of 4 kept), conv3 keeps 3 of 4, conv5 2 of 4 (flatten 8, read by logits).
[PrunedNetwork(typeof(PruneGen.Tests.Pruning.PrDeep), "Compiled/Plans/deep.plan.json")]
public partial class CompiledDeepPruned;
