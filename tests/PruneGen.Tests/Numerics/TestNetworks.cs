// Small networks that exercise every layer kind at sizes chosen to fall off the SIMD grid: channel
// counts and dense widths 1, 3, 7, 13, 31, 33 and some past 64 (100, 129); spatial extents that are
// not multiples of 8 or 16 (5×5, 7×7, 9×11, 11×9, 5×6) and a few that are (4×8) to cover the exact
// tiles; stride 2, padding, groups, depthwise, 1×1 direct and strided convolutions, residual adds
// with Input= branches, channel and flat concatenations, padded and unpadded pooling.
// The comment above each class gives the shapes the builder infers.
namespace PruneGen.Tests.Numerics;

// 7 → 13 → 31 → 33 → 100 → 129 (no bias) → BN(flat) → 3 → 1: every activation, NT tails at every width.
[Network(7)]
[Dense("d13", 13), ReLU]
[Dense("d31", 31), Tanh]
[Dense("d33", 33), Sigmoid]
[Dense("d100", 100), LeakyReLU(0.1)]
[Dense("d129", 129, Bias = false), BatchNorm("bn")]
[Dense("d3", 3)]
[Dense("d1", 1)]
public partial class NumDenseChain;

// A one-feature input (k = 1 in the dense GEMM), widths past 64, dropout and softmax.
[Network(1)]
[Dense("d65", 65), ReLU]
[Dense("d129", 129), Dropout(0.25)]
[Dense("d7", 7), Softmax]
public partial class NumDenseWide;

// Flat joins: 33 → tanh(dense 33) + input + dense (3-way add), concat with a 13-wide branch read from the input.
[Network(33)]
[Dense("a", 33), Tanh(Name = "ta")]
[Add("res", "ta", "input", "a")]
[Dense("b", 13, Input = "input")]
[Concat("cat", "res", "b")]
[Dense("logits", 3), Softmax]
public partial class NumFlatJoins;

// 3×9×11 → conv 7@3 pad 1 (7×9×11) → BN → ReLU → conv 13@3 stride 2 (13×4×5) → BN → LeakyReLU
// → maxpool 3 stride 2 pad 1 (13×2×3) → flatten 78 → dense 33 → softmax.
[Network(3, 9, 11)]
[Conv2D("c1", 7, 3, Padding = 1), BatchNorm("bn1"), ReLU]
[Conv2D("c2", 13, 3, Stride = 2), BatchNorm("bn2"), LeakyReLU(0.2)]
[MaxPool2D(3, Stride = 2, Padding = 1)]
[Flatten]
[Dense("fc", 33), Softmax]
public partial class NumConvOdd;

// 1×5×5 → conv 31@3 pad 1 (31×5×5) → tanh → conv 33@1 (direct GEMM, 33×5×5) → avgpool 3 stride 1 pad 1
// (33×5×5) → conv 3@5 stride 2 pad 2 (3×3×3) → sigmoid → conv 1@3 (1×1×1) → GAP 1 → dense 7.
[Network(1, 5, 5)]
[Conv2D("c1", 31, 3, Padding = 1), Tanh]
[Conv2D("c2", 33, 1)]
[AvgPool2D(3, Stride = 1, Padding = 1)]
[Conv2D("c3", 3, 5, Stride = 2, Padding = 2), Sigmoid]
[Conv2D("c4", 1, 3)]
[GlobalAvgPool]
[Dense("fc", 7)]
public partial class NumConvSingleChannel;

// 3×7×7 → conv 33@3 groups 3 pad 1 (33×7×7) → BN → ReLU → conv 33@3 groups 11 stride 2 (33×3×3)
// → depthwise 3 ×2 pad 1 (66×3×3) → conv 13@1 stride 2 no bias (im2col, 13×2×2)
// → conv 13@1 groups 13 (direct, 13×2×2) → flatten 52 → dense 31.
[Network(3, 7, 7)]
[Conv2D("g1", 33, 3, Groups = 3, Padding = 1), BatchNorm("bn1"), ReLU]
[Conv2D("g2", 33, 3, Groups = 11, Stride = 2)]
[DepthwiseConv2D("dw", 3, Multiplier = 2, Padding = 1)]
[Conv2D("pw", 13, 1, Stride = 2, Bias = false)]
[Conv2D("pwg", 13, 1, Groups = 13)]
[Flatten]
[Dense("fc", 31)]
public partial class NumGroupedConv;

// 7×9×11 → depthwise 3 stride 2 pad 1 (7×5×6) → BN → ReLU → depthwise 5 pad 2 no bias (7×5×6)
// → conv 31@1 (31×5×6) → avgpool 3 stride 2 pad 1 (31×3×3) → GAP 31 → dense 13.
[Network(7, 9, 11)]
[DepthwiseConv2D("dw1", 3, Stride = 2, Padding = 1), BatchNorm("bn1"), ReLU]
[DepthwiseConv2D("dw2", 5, Padding = 2, Bias = false)]
[Conv2D("pw", 31, 1)]
[AvgPool2D(3, Stride = 2, Padding = 1)]
[GlobalAvgPool]
[Dense("fc", 13)]
public partial class NumDepthwise;

// 7×7×7: a = relu(BN(conv 7@3 pad 1)), b = conv 7@1 of the input; sum = a + b + input;
// cat = [sum, input, b] (21×7×7) → avgpool 2 (21×3×3, drops the last row and column)
// → maxpool 2 stride 1 (21×2×2) → flatten 84 → dropout → dense 13.
[Network(7, 7, 7)]
[Conv2D("a", 7, 3, Padding = 1), BatchNorm("a_bn"), ReLU(Name = "a_relu")]
[Conv2D("b", 7, 1, Input = "input")]
[Add("sum", "a_relu", "b", "input")]
[Concat("cat", "sum", "input", "b")]
[AvgPool2D(2), MaxPool2D(2, Stride = 1)]
[Flatten, Dropout(0.5)]
[Dense("fc", 13)]
public partial class NumResidualConcat;

// Pooling straight on the (signed) input, where a padded tap that won a max would show:
// mp = maxpool 3 stride 2 pad 1 (3×3×3), ap = avgpool 3 stride 2 pad 1 of the input (3×3×3),
// cat (6×3×3) → maxpool 2 pad 1 (6×2×2; corner windows hold one real tap) → flatten 24.
[Network(3, 5, 5)]
[MaxPool2D(3, Stride = 2, Padding = 1, Name = "mp")]
[AvgPool2D(3, Stride = 2, Padding = 1, Name = "ap", Input = "input")]
[Concat("cat", "mp", "ap")]
[MaxPool2D(2, Padding = 1)]
[Flatten]
public partial class NumPaddedPools;

// Wider GEMMs: 13×11×9 → conv 33@3 pad 1 (33×11×9: n = 99, k = 117) → ReLU
// → conv 31@3 stride 2 pad 1 (31×6×5: k = 297) → BN → GAP 31 → dense 129 → ReLU → dense 100 (named logits: a layer named "out" would clash with IDenseShape.Out in the generated shape struct).
[Network(13, 11, 9)]
[Conv2D("c1", 33, 3, Padding = 1), ReLU]
[Conv2D("c2", 31, 3, Stride = 2, Padding = 1), BatchNorm("bn2")]
[GlobalAvgPool]
[Dense("fc", 129), ReLU]
[Dense("logits", 100)]
public partial class NumWideConv;

// Sizes exactly on the vector grid (no tails): 2×4×8 → conv 4@3 pad 1 (4×4×8: n = 32)
// → conv 8@1 (direct, m = 8, n = 32, k = 4) → flatten 256 → dense 16 → dense 32 → dense 8.
[Network(2, 4, 8)]
[Conv2D("c1", 4, 3, Padding = 1)]
[Conv2D("c2", 8, 1)]
[Flatten]
[Dense("fc1", 16)]
[Dense("fc2", 32)]
[Dense("logits", 8)]
public partial class NumExactTiles;

// The Winograd path's edge cases (stride-1 3×3 with at least 8 input channels; at batch 5, or one sample of 7×7 tiles):
// 9×11×9 → conv 12@3 pad 1 (12×11×9: 6 tile rows of 5, packed 3 to a vector) → BN → ReLU
// → conv 12@3 pad 1 → BN, + the first ReLU's output (fused residual) → ReLU → conv 10@3 unpadded (10×9×7: 5 tile rows of 4, packed 4, a short last pack)
// → maxpool 2 (10×4×3) → conv 8@3 pad 1 (8×4×3: 2 tile rows of 2) → flatten 96 → dense 13.
[Network(9, 11, 9)]
[Conv2D("c1", 12, 3, Padding = 1), BatchNorm("bn1"), ReLU(Name = "r1")]
[Conv2D("c2", 12, 3, Padding = 1), BatchNorm("bn2")]
[Add("sum", "bn2", "r1"), ReLU(Name = "r2")]
[Conv2D("c3", 10, 3), MaxPool2D(2)]
[Conv2D("c4", 8, 3, Padding = 1)]
[Flatten]
[Dense("fc", 13)]
public partial class NumWinograd;

// F(4×4, 3×3) with the channels in the lanes (stride-1 3×3 whose lanes fill enough, 14 or more tiles a thread): 30×15×13
// → c1 = conv 30@3 pad 1 (30×15×13: 4×4 tiles, the last tile row and column past the edge; 30 channels are a block and a
// partial one) → BN → ReLU (in registers) → c2 = conv 30@3 pad 1 → BN, + the first ReLU's output (fused residual) → ReLU
// → c3 = conv 29@3 unpadded (29×13×11: 4×3 tiles) → GAP 29 → dense 7. Batch 5: c1 and c2 in chunks of 2 samples (a
// last chunk of 1), c3 in chunks of 3 (runs of 12 tiles, a short last chunk computing stale rows it does not store).
[Network(30, 15, 13)]
[Conv2D("c1", 30, 3, Padding = 1), BatchNorm("bn1"), ReLU(Name = "r1")]
[Conv2D("c2", 30, 3, Padding = 1), BatchNorm("bn2")]
[Add("sum", "bn2", "r1"), ReLU]
[Conv2D("c3", 29, 3)]
[GlobalAvgPool]
[Dense("fc", 7)]
public partial class NumWinograd4;

// F(4×4, 3×3) in 8 lanes with 256-bit vectors (CI reruns the numerics at PRUNEGEN_SIMD=256; on AVX-512 these layers fill
// 16 lanes too poorly and take F(2×2)): 22×15×13 → c1 = conv 22@3 pad 1 (3
// blocks of 8, the last with 6 channels) → BN → ReLU → c2 = conv 22@3 pad 1 → BN, + the ReLU's output → ReLU → c3 = conv
// 8@3 pad 1 (22 → 8: a single output block; one sample on two threads by bands of tile rows) → c4 = conv 23@3 unpadded
// (8 → 23: 23×13×11, 4×3 tiles) → GAP 23 → dense 7.
[Network(22, 15, 13)]
[Conv2D("c1", 22, 3, Padding = 1), BatchNorm("bn1"), ReLU(Name = "r1")]
[Conv2D("c2", 22, 3, Padding = 1), BatchNorm("bn2")]
[Add("sum", "bn2", "r1"), ReLU]
[Conv2D("c3", 8, 3, Padding = 1)]
[Conv2D("c4", 23, 3)]
[GlobalAvgPool]
[Dense("fc", 7)]
public partial class NumWinograd4Narrow;

// One sample of a large strided layer, split across the threads: 16×30×30 → proj = conv 48@1 stride 2 (48×15×15) → down =
// conv 48@3 stride 2 pad 1 of the input (48×15×15, 1.56 M multiply-adds) → BN, + proj (fused residual) → ReLU → GAP 48 →
// dense 7. On the broadcast path (AVX-512) by blocks of 16 output channels (1 and 2 of 3; runs of 8 positions, the
// second starting at column 7), else by output rows (rows 0–6 and 7–14, 105 and 120 columns).
[Network(16, 30, 30)]
[Conv2D("proj", 48, 1, Stride = 2)]
[Conv2D("down", 48, 3, Stride = 2, Padding = 1, Input = "input"), BatchNorm("bn")]
[Add("sum", "bn", "proj"), ReLU]
[GlobalAvgPool]
[Dense("fc", 7)]
public partial class NumStridedRows;

// Stride-1 convolutions below Winograd's 8 input channels take the implicit product, here each with a fused residual:
// 5×9×11 → c1 = conv 5@3 pad 1 → BN, + the input → ReLU → c2 = conv 5@5 pad 2, + the ReLU's output → GAP 5 → dense 3.
// Rows of 11 outputs: the store's vectors run past each row's end, and the last row's tail goes one value at a time.
[Network(5, 9, 11)]
[Conv2D("c1", 5, 3, Padding = 1), BatchNorm("bn1")]
[Add("sum1", "bn1", "input"), ReLU(Name = "r1")]
[Conv2D("c2", 5, 5, Padding = 2)]
[Add("sum2", "c2", "r1")]
[GlobalAvgPool]
[Dense("fc", 3)]
public partial class NumImplicitResidual;

// 2×2 max pooling 16 outputs at a time: 8×34×41 → maxpool 2 (8×17×20: a vector of 16 and 4 one at a time per row, the
// odd last input column unused) → flatten 2 720 → dense 5. At batch 5 the 55 K input floats split across two threads by
// planes, so one part's last vector must not run into the other's planes.
[Network(8, 34, 41)]
[MaxPool2D(2)]
[Flatten]
[Dense("fc", 5)]
public partial class NumWidePool;

// The broadcast path (strided ungrouped layers, on AVX-512): 1×56×56 → stem = conv 20@3 stride 2 pad 1 (20×28×28: 9
// taps; runs of 14, two per row; blocks of 16 and 4 channels) → BN → ReLU → s2 = conv 48@3 stride 2 pad 1 (48×14×14: one
// row per run; 1.7 M multiply-adds, so one sample on two threads splits by blocks, 1 and 2 of 3, and the pass keeps the
// workers spinning, which splits the stem too) → BN, + proj = conv 48@1 stride 2 of the stem's ReLU (fused residual) →
// ReLU → s3 = conv 17@3 stride 2 pad 1 (17×7×7: two rows per run, the last run moved up to rows 5–6) → ReLU → s4 = conv
// 9@3 stride 2 pad 1 (9×4×4: three rows per run, the second over rows 1–3) → GAP 9 → dense 5.
[Network(1, 56, 56)]
[Conv2D("stem", 20, 3, Stride = 2, Padding = 1), BatchNorm("bn0"), ReLU(Name = "r0")]
[Conv2D("s2", 48, 3, Stride = 2, Padding = 1), BatchNorm("bn1")]
[Conv2D("proj", 48, 1, Stride = 2, Input = "r0")]
[Add("sum", "bn1", "proj"), ReLU(Name = "r1")]
[Conv2D("s3", 17, 3, Stride = 2, Padding = 1), ReLU]
[Conv2D("s4", 9, 3, Stride = 2, Padding = 1)]
[GlobalAvgPool]
[Dense("fc", 5)]
public partial class NumBroadcast;

// The broadcast path on rows that do not split evenly: 3×101×128 → c1 = conv 12@3 stride 2 pad 1 (12×51×64, 1.06 M
// multiply-adds: runs of 13 at columns 0, 13, 26, 39 and 51; one block of channels, so one sample on two threads splits
// by rows, 0–25 and 26–50) → BN → ReLU → c2 = conv 5@3 stride 2 unpadded (5×25×31) → GAP 5 → dense 3.
[Network(3, 101, 128)]
[Conv2D("c1", 12, 3, Stride = 2, Padding = 1), BatchNorm("bn1"), ReLU]
[Conv2D("c2", 5, 3, Stride = 2)]
[GlobalAvgPool]
[Dense("fc", 3)]
public partial class NumBroadcastRows;
