// Small networks for the pruning engine tests: each shape family channel groups must handle
// (plain chain with flatten, residual blocks with identity and projection shortcuts, concatenation,
// depthwise, grouped convolution, non-ReLU activations), at sizes that keep every test fast.
// The comment above each class gives the shapes the builder infers.
namespace PruneGen.Tests.Pruning;

// 2×8×8 → conv1 6@3 pad 1 → bn1 → relu1 → conv2 8@3 pad 1 → bn2 → relu2 → maxpool 2 (8×4×4)
// → flatten 128 (16 features per conv2 channel) → fc1 10 → relu3 → logits 3.
[Network(2, 8, 8)]
[Conv2D("conv1", 6, 3, Padding = 1), BatchNorm("bn1"), ReLU]
[Conv2D("conv2", 8, 3, Padding = 1), BatchNorm("bn2"), ReLU, MaxPool2D(2)]
[Flatten]
[Dense("fc1", 10), ReLU]
[Dense("logits", 3)]
public partial class PrVgg;

// PrVgg pruned by hand to conv1 4, conv2 5, fc1 7 (the widths of PruningTests' plan).
[Network(2, 8, 8)]
[Conv2D("conv1", 4, 3, Padding = 1), BatchNorm("bn1"), ReLU]
[Conv2D("conv2", 5, 3, Padding = 1), BatchNorm("bn2"), ReLU, MaxPool2D(2)]
[Flatten]
[Dense("fc1", 7), ReLU]
[Dense("logits", 3)]
public partial class PrVggSmall;

// 1×8×8 → stem 4@3 pad 1 (no bias) → stem_bn → relu1 → b1 (4, identity shortcut) → b2 (6, stride 2,
// projection: 6×4×4) → b3 (6, identity) → gap 6 → logits 3.
// Residual coupling: {stem, b1.conv2} and {b2.conv2, b2.proj, b3.conv2}; each conv1 is its own group.
[Network(1, 8, 8)]
[Conv2D("stem", 4, 3, Padding = 1, Bias = false), BatchNorm("stem_bn"), ReLU]
[ResidualBlock("b1", 4), ResidualBlock("b2", 6, Stride = 2), ResidualBlock("b3", 6)]
[GlobalAvgPool]
[Dense("logits", 3)]
public partial class PrResNet;

// 2×6×6: a = relu(bn(conv 3@3 pad 1)), b = relu(conv 4@1 of the input); cat = [a, b] (7×6×6)
// → c 5@3 stride 2 pad 1 (5×3×3) → relu; pool = avgpool 2 of cat (7×3×3);
// cat2 = [c_relu, pool] (12×3×3) → flatten 108 (9 per channel) → logits 3.
[Network(2, 6, 6)]
[Conv2D("a", 3, 3, Padding = 1), BatchNorm("a_bn"), ReLU(Name = "a_relu")]
[Conv2D("b", 4, 1, Input = "input"), ReLU(Name = "b_relu")]
[Concat("cat", "a_relu", "b_relu")]
[Conv2D("c", 5, 3, Stride = 2, Padding = 1), ReLU(Name = "c_relu")]
[AvgPool2D(2, Name = "pool", Input = "cat")]
[Concat("cat2", "c_relu", "pool")]
[Flatten]
[Dense("logits", 3)]
public partial class PrConcat;

// 3×6×6 → pw1 6@1 → bn1 → relu1 → dw 3×3 pad 1 (depthwise, 6×6×6) → bn2 → relu2 → pw2 5@1 → relu3
// → gap 5 → logits 3. The depthwise filters and bn2 belong to pw1's group.
[Network(3, 6, 6)]
[Conv2D("pw1", 6, 1), BatchNorm("bn1"), ReLU]
[DepthwiseConv2D("dw", 3, Padding = 1), BatchNorm("bn2"), ReLU]
[Conv2D("pw2", 5, 1), ReLU]
[GlobalAvgPool]
[Dense("logits", 3)]
public partial class PrDepthwise;

// 4×5×5 → c1 4@3 pad 1 → relu → g 6@3 groups 2 pad 1 → relu → c3 5@1 → flatten 125 → logits 2.
// The grouped convolution makes c1's and g's groups unprunable; c3 stays prunable.
[Network(4, 5, 5)]
[Conv2D("c1", 4, 3, Padding = 1), ReLU]
[Conv2D("g", 6, 3, Groups = 2, Padding = 1), ReLU]
[Conv2D("c3", 5, 1)]
[Flatten]
[Dense("logits", 2)]
public partial class PrGrouped;

// Non-ReLU activations (a removed channel's activation is not 0 after them, so only the zeroed
// consumer columns make masking exact): 2×6×6 → conv1 5@3 pad 1 → bn1 → sigmoid → conv2 6@3 pad 1
// → tanh → maxpool 2 (6×3×3) → flatten 54 → fc 7 → bn_fc (flat) → leaky relu 0.1 → logits 3.
[Network(2, 6, 6)]
[Conv2D("conv1", 5, 3, Padding = 1), BatchNorm("bn1"), Sigmoid]
[Conv2D("conv2", 6, 3, Padding = 1), Tanh, MaxPool2D(2)]
[Flatten]
[Dense("fc", 7), BatchNorm("bn_fc"), LeakyReLU(0.1)]
[Dense("logits", 3)]
public partial class PrSigmoid;

// A tiny flat network for hand-computed criteria: 3 → fc1 4 → relu → logits 2.
[Network(3)]
[Dense("fc1", 4), ReLU]
[Dense("logits", 2)]
public partial class PrTiny;

// A depthwise convolution declared as a grouped Conv2D (groups = in = out channels):
// 3×6×6 → pw 6@1 → relu → dwx 6@3 groups 6 pad 1 → relu → gap 6 → logits 3. Pruning pw's group must
// shrink dwx's channels and groups together.
[Network(3, 6, 6)]
[Conv2D("pw", 6, 1), ReLU]
[Conv2D("dwx", 6, 3, Groups = 6, Padding = 1), ReLU]
[GlobalAvgPool]
[Dense("logits", 3)]
public partial class PrGroupedDepthwise;

// BatchNorm over flattened features: 2×4×4 → c 3@3 pad 1 → relu → flatten 48 → bnf (48 features,
// 16 per channel of c) → logits 2.
[Network(2, 4, 4)]
[Conv2D("c", 3, 3, Padding = 1), ReLU]
[Flatten]
[BatchNorm("bnf")]
[Dense("logits", 2)]
public partial class PrFlatBatchNorm;

// Plain layers whose removal keeps shapes valid (depth pruning without residual blocks):
// 2×6×6 → conv1 4@3 pad 1 → bn1 → relu1 (2 → 4: changes shape)
// → conv2 4@3 pad 1 → bn2 → relu2 (removable: 4 → 4, reads a ReLU) → maxpool 2 (4×3×3)
// → conv3 4@3 pad 1 (removable: no activation in its chain; tanh is not) → tanh
// → conv4 4@1 → relu (4 → 4, but reads tanh: relu(x) ≠ x, so not removable)
// → conv5 4@3 stride 2 pad 1 → relu (4×2×2: changes shape) → flatten 16
// → fc1 16 → relu (removable: 16 → 16, reads a flattened ReLU) → logits 3.
[Network(2, 6, 6)]
[Conv2D("conv1", 4, 3, Padding = 1), BatchNorm("bn1"), ReLU]
[Conv2D("conv2", 4, 3, Padding = 1), BatchNorm("bn2"), ReLU, MaxPool2D(2)]
[Conv2D("conv3", 4, 3, Padding = 1), Tanh]
[Conv2D("conv4", 4, 1), ReLU]
[Conv2D("conv5", 4, 3, Stride = 2, Padding = 1), ReLU]
[Flatten]
[Dense("fc1", 16), ReLU]
[Dense("logits", 3)]
public partial class PrDeep;
