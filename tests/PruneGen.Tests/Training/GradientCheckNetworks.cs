namespace PruneGen.Tests.Training;

// Small networks for finite-difference checks: every layer kind, odd sizes, batch > 1 so that
// training-mode BatchNorm couples samples.

/// <summary>Convolutions of every flavour, BatchNorm on images, pooling and a residual add.</summary>
[Network(3, 9, 7)]
[Conv2D("c1", 5, 3, Padding = 1), BatchNorm("bn1"), ReLU]
[Conv2D("c2", 5, 3, Padding = 1, Groups = 5, Bias = false), LeakyReLU(0.1)]
[Add("sum", "bn1")]
[DepthwiseConv2D("dw", 3, Stride = 2, Padding = 1), Tanh]
[Conv2D("pw", 7, 1), Sigmoid]
[MaxPool2D(2, Stride = 1), AvgPool2D(3, Stride = 2, Padding = 1)]
[Flatten]
[Dense("fc", 6), BatchNorm("bn2"), Dropout(0.25)]
[Dense("logits", 4, Bias = false)]
public partial class GradConvNet;

/// <summary>Concat, global pooling, softmax and a residual block with a projection.</summary>
[Network(2, 6, 6)]
[Conv2D("a", 3, 3, Padding = 1)]
[Conv2D("b", 4, 1, Input = "input")]
[Concat("cat", "a", "b")]
[ResidualBlock("rb", 5, Stride = 2)]
[GlobalAvgPool]
[Dense("fc", 3), Softmax]
public partial class GradJoinNet;

/// <summary>Dense layers straight on a flat input.</summary>
[Network(13)]
[Dense("d1", 7), Tanh, Dense("d2", 33), ReLU, Dense("d3", 3)]
public partial class GradDenseNet;

/// <summary>
/// Stride-1 3×3 layers whose input gradient takes the Winograd path (at least 8 output channels, batch &gt; 1): padded and
/// unpadded (the gradient bordered by 1 and by 2), odd sizes, a fused-free plain chain.
/// </summary>
[Network(3, 9, 7)]
[Conv2D("c1", 9, 3, Padding = 1), ReLU]
[Conv2D("c2", 10, 3, Padding = 1), Tanh]
[Conv2D("c3", 8, 3)]
[Flatten]
[Dense("logits", 4)]
public partial class GradWinogradNet;

/// <summary>
/// Stride-1 3×3 layers whose input and weight gradients take F(4×4, 3×3) (lanes filled enough, 14 or more tiles a
/// thread): 29 channels (a block and a partial one on either side; the weight products' runs of 10 input channels, the
/// last moved back one), 14×13 planes (4×4 tiles, the last column of tiles past the edge), c1's input gradient added onto
/// the residual's.
/// </summary>
[Network(3, 14, 13)]
[Conv2D("c0", 29, 1), Tanh(Name = "t0")]
[Conv2D("c1", 29, 3, Padding = 1), Tanh]
[Add("sum", "t0")]
[Conv2D("c2", 29, 3, Padding = 1)]
[GlobalAvgPool]
[Dense("logits", 4)]
public partial class GradWinograd4Net;

/// <summary>
/// F(4×4, 3×3) in 8 lanes for the input and weight gradients with 256-bit vectors (CI reruns the gradients at
/// PRUNEGEN_SIMD=256; on AVX-512 these layers take F(2×2)): 22 channels (3 blocks of 8, the last with 6) into c1, 22 →
/// 8 in c2 (a single output block; its weight products' runs of 11 input channels), c1's input gradient added onto the
/// residual's, the input gradient of c2 (8 → 22 flipped) in 8 lanes too.
/// </summary>
[Network(3, 14, 13)]
[Conv2D("c0", 22, 1), Tanh(Name = "t0")]
[Conv2D("c1", 22, 3, Padding = 1), Tanh]
[Add("sum", "t0")]
[Conv2D("c2", 8, 3, Padding = 1)]
[GlobalAvgPool]
[Dense("logits", 4)]
public partial class GradWinograd4Narrow;

/// <summary>
/// 2×2 max pooling whose backward takes 16 windows at a time: rows of 20 windows (a vector and 4 one at a time), an odd
/// input width and height (the last column and row in no window), after a convolution so the taps differ.
/// </summary>
[Network(2, 7, 41)]
[Conv2D("c1", 3, 3, Padding = 1), Tanh]
[MaxPool2D(2)]
[Flatten]
[Dense("logits", 4)]
public partial class GradPoolNet;

/// <summary>
/// Strided layers whose input gradient takes the broadcast path (on AVX-512): 20 input channels (a block of 16 and one of
/// 4), rows of 15 outputs (runs of 8 at columns 0 and 7: the second skips the column the first added), a 1×1 stride-2
/// projection beside a 3×3, then a 3×3 stride 2 onto 2×7 (one run of both rows).
/// </summary>
[Network(3, 9, 30)]
[Conv2D("c0", 20, 1), Tanh(Name = "t0")]
[Conv2D("c1", 6, 3, Stride = 2, Padding = 1), Tanh(Name = "t1")]
[Conv2D("p", 3, 1, Stride = 2, Input = "t0")]
[Concat("cat", "t1", "p")]
[Conv2D("c2", 5, 3, Stride = 2)]
[Flatten]
[Dense("logits", 4)]
public partial class GradStridedNet;
