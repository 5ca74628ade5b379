using PruneGen;

namespace PruneGen.Examples.Networks;

/// <summary>
/// The tiny ResNet (≈20 M MACs): a 16-channel stem, three stages of two basic blocks at 16, 32 and
/// 64 channels (the first block of stages 2 and 3 downsamples with stride 2 and a 1×1 projection
/// shortcut), global average pooling and a 10-way classifier.
/// </summary>
[Network(1, 28, 28)]
[Conv2D("stem", 16, 3, Padding = 1, Bias = false), BatchNorm("stem_bn"), ReLU]
[ResidualBlock("s1b1", 16), ResidualBlock("s1b2", 16)]
[ResidualBlock("s2b1", 32, Stride = 2), ResidualBlock("s2b2", 32)]
[ResidualBlock("s3b1", 64, Stride = 2), ResidualBlock("s3b2", 64)]
[GlobalAvgPool]
[Dense("logits", 10)]
public partial class TinyResNet;
