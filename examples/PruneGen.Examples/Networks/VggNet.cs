using PruneGen;

namespace PruneGen.Examples.Networks;

/// <summary>
/// The VGG-style CNN, PruneGen's main pruning workload (≈29.4 M MACs):
/// [conv 3×3 + BN + ReLU] × 2 at 32, 64 and 128 channels, each pair followed by 2×2 max pooling,
/// then dense 256 + ReLU + dropout and the 10-way classifier.
/// </summary>
[Network(1, 28, 28)]
[Conv2D("conv1", 32, 3, Padding = 1), BatchNorm("bn1"), ReLU]
[Conv2D("conv2", 32, 3, Padding = 1), BatchNorm("bn2"), ReLU, MaxPool2D(2)]
[Conv2D("conv3", 64, 3, Padding = 1), BatchNorm("bn3"), ReLU]
[Conv2D("conv4", 64, 3, Padding = 1), BatchNorm("bn4"), ReLU, MaxPool2D(2)]
[Conv2D("conv5", 128, 3, Padding = 1), BatchNorm("bn5"), ReLU]
[Conv2D("conv6", 128, 3, Padding = 1), BatchNorm("bn6"), ReLU, MaxPool2D(2)]
[Flatten]
[Dense("fc1", 256), ReLU, Dropout(0.3)]
[Dense("logits", 10)]
public partial class VggNet;
