namespace PruneGen.Tests.Onnx;

// Small networks that, with the four reference networks, put every layer kind and option through the
// ONNX exporter: the oracle tests compare their generated Forward with ONNX Runtime.

/// <summary>
/// Image input; covers a grouped Conv2D without bias, LeakyReLU, DepthwiseConv2D (multiplier 1 and 2),
/// a 1×1 Conv2D (the kernel's direct path), Sigmoid, Tanh, a three-way Add joining Input= branches,
/// MaxPool2D with padding and stride ≠ window, AvgPool2D with padding (count_include_pad), a stride-2
/// Conv2D whose output size is floored, a three-way Concat, BatchNorm on 2-D and flat tensors,
/// Dense without bias, Dropout and Softmax.
/// </summary>
[Network(3, 11, 11)]
[Conv2D("c1", 6, 3, Padding = 1, Groups = 3, Bias = false), LeakyReLU(0.1, Name = "lrelu")]
[DepthwiseConv2D("dw", 3, Padding = 1), Sigmoid(Name = "sig")]
[Conv2D("pw", 6, 1, Input = "lrelu"), Tanh(Name = "th")]
[Add("sum", "th", "sig", "lrelu")]
[MaxPool2D(3, Stride = 2, Padding = 1, Name = "mp")]
[AvgPool2D(3, Stride = 1, Padding = 1, Name = "ap")]
[Conv2D("down", 8, 2, Stride = 2, Padding = 1, Input = "sum")]
[DepthwiseConv2D("dw2", 3, Multiplier = 2, Padding = 1)]
[Concat("cat", "ap", "dw2", "down")]
[BatchNorm("bn2d"), ReLU]
[MaxPool2D(2, Stride = 1, Name = "mp2")]
[Flatten]
[Dense("fc", 16, Bias = false), BatchNorm("bn1d"), Dropout(0.25)]
[Dense("head", 10)]
[Softmax]
public partial class OnnxKindsNet;

/// <summary>
/// Flat input ([N, 20] in ONNX); covers Dense without bias, BatchNorm on a vector, Tanh, a second
/// branch from the network input, Sigmoid, Add and Concat of flat vectors (the Concat also reads the
/// network input itself), LeakyReLU and Softmax.
/// </summary>
[Network(20)]
[Dense("fc1", 16, Bias = false), BatchNorm("bn1"), Tanh(Name = "t")]
[Dense("fc2", 16, Input = "input"), Sigmoid(Name = "s")]
[Add("sum", "t")]
[Concat("cat", "sum", "t", "input")]
[LeakyReLU(0.2)]
[Dense("logits", 5)]
[Softmax]
public partial class OnnxFlatNet;

/// <summary>
/// A layer named <c>output</c> that is not the last one: its tensor must not clash with the graph output.
/// Also covers GlobalAvgPool on a non-square input.
/// </summary>
[Network(2, 5, 7)]
[Conv2D("output", 4, 3), ReLU]
[GlobalAvgPool]
[Dense("fc", 3)]
public partial class OnnxNameClashNet;

/// <summary>
/// Non-square input; covers a grouped 1×1 Conv2D (the kernel's direct path, per group), MaxPool2D
/// with padding on a non-square map, AvgPool2D with stride greater than its window, and a grouped,
/// strided, padded Conv2D, then GlobalAvgPool and Softmax.
/// </summary>
[Network(4, 7, 9)]
[Conv2D("g1", 8, 1, Groups = 2), MaxPool2D(3, Stride = 2, Padding = 1, Name = "mp")]
[AvgPool2D(2, Stride = 3, Padding = 1, Name = "ap")]
[Conv2D("g2", 4, 3, Stride = 3, Padding = 1, Groups = 4)]
[GlobalAvgPool]
[Dense("fc", 3)]
[Softmax]
public partial class OnnxOddShapesNet;

/// <summary>A 3-way softmax over a dense layer, to feed chosen logits to Softmax.</summary>
[Network(3)]
[Dense("fc", 3)]
[Softmax]
public partial class OnnxSoftmaxNet;
