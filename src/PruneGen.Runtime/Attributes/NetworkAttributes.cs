using System;

namespace PruneGen;

/// <summary>
/// Marks a <c>partial</c> class as a PruneGen network and states the shape of one input sample.
/// The layer attributes that follow, in order, declare the layers; the source generator emits the
/// network's shape constants, parameters and kernels into the class.
/// </summary>
/// <example>
/// <code>
/// [Network(784)]
/// [Dense("fc1", 256), ReLU]
/// [Dense("fc2", 10)]
/// public partial class Mlp;
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class NetworkAttribute : Attribute
{
    /// <summary>A network whose input is a flat vector of <paramref name="length"/> floats.</summary>
    public NetworkAttribute(int length) => (Channels, Height, Width) = (length, 1, 1);

    /// <summary>A network whose input is an image of <paramref name="channels"/>×<paramref name="height"/>×<paramref name="width"/> (NCHW).</summary>
    public NetworkAttribute(int channels, int height, int width) => (Channels, Height, Width) = (channels, height, width);

    /// <summary>Input channels (or length of a flat input).</summary>
    public int Channels { get; }

    /// <summary>Input height (1 for a flat input).</summary>
    public int Height { get; }

    /// <summary>Input width (1 for a flat input).</summary>
    public int Width { get; }
}

/// <summary>Base of every layer attribute. Layers read the previous layer unless <see cref="Input"/> names another.</summary>
public abstract class LayerAttribute : Attribute
{
    /// <summary>The name of the layer to read instead of the previous one (<c>"input"</c> is the network input). Use it to start a branch.</summary>
    public string? Input { get; set; }
}

/// <summary>Base of layers without parameters, whose name is optional (derived from the kind and a counter, e.g. <c>relu2</c>).</summary>
public abstract class UnnamedLayerAttribute : LayerAttribute
{
    /// <summary>The layer's name; leave unset for <c>{kind}{n}</c>, e.g. <c>maxpool1</c>.</summary>
    public string? Name { get; set; }
}

/// <summary>Fully connected layer <c>y = x·Wᵀ + b</c> with weight <c>[units, inputs]</c>. Needs a flat input.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DenseAttribute(string name, int units) : LayerAttribute
{
    /// <summary>The layer's name.</summary>
    public string Name { get; } = name;

    /// <summary>Output features.</summary>
    public int Units { get; } = units;

    /// <summary>Whether the layer adds a bias (default true).</summary>
    public bool Bias { get; set; } = true;
}

/// <summary>2-D convolution with a square kernel, weight <c>[channels, inputChannels/groups, kernel, kernel]</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class Conv2DAttribute(string name, int channels, int kernel) : LayerAttribute
{
    /// <summary>The layer's name.</summary>
    public string Name { get; } = name;

    /// <summary>Output channels (filters).</summary>
    public int Channels { get; } = channels;

    /// <summary>Kernel size.</summary>
    public int Kernel { get; } = kernel;

    /// <summary>Stride (default 1).</summary>
    public int Stride { get; set; } = 1;

    /// <summary>Zero padding on every side (default 0).</summary>
    public int Padding { get; set; }

    /// <summary>Groups (default 1); must divide input and output channels.</summary>
    public int Groups { get; set; } = 1;

    /// <summary>Whether the layer adds a bias (default true).</summary>
    public bool Bias { get; set; } = true;
}

/// <summary>Depthwise convolution: one filter group per input channel.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DepthwiseConv2DAttribute(string name, int kernel) : LayerAttribute
{
    /// <summary>The layer's name.</summary>
    public string Name { get; } = name;

    /// <summary>Kernel size.</summary>
    public int Kernel { get; } = kernel;

    /// <summary>Output channels per input channel (default 1).</summary>
    public int Multiplier { get; set; } = 1;

    /// <summary>Stride (default 1).</summary>
    public int Stride { get; set; } = 1;

    /// <summary>Zero padding on every side (default 0).</summary>
    public int Padding { get; set; }

    /// <summary>Whether the layer adds a bias (default true).</summary>
    public bool Bias { get; set; } = true;
}

/// <summary>Batch normalization over channels (image input) or features (flat input), ε = 1e-5.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class BatchNormAttribute(string name) : LayerAttribute
{
    /// <summary>The layer's name.</summary>
    public string Name { get; } = name;
}

/// <summary>Rectified linear unit, max(x, 0).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ReLUAttribute : UnnamedLayerAttribute;

/// <summary>Leaky ReLU: x if x &gt; 0, else slope·x.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class LeakyReLUAttribute(double slope = 0.01) : UnnamedLayerAttribute
{
    /// <summary>The slope for negative inputs, in [0, 1).</summary>
    public double Slope { get; } = slope;
}

/// <summary>Logistic sigmoid.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SigmoidAttribute : UnnamedLayerAttribute;

/// <summary>Hyperbolic tangent.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class TanhAttribute : UnnamedLayerAttribute;

/// <summary>Max pooling over square windows.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class MaxPool2DAttribute(int window) : UnnamedLayerAttribute
{
    /// <summary>Window size.</summary>
    public int Window { get; } = window;

    /// <summary>Stride; 0 (the default) means the window size.</summary>
    public int Stride { get; set; }

    /// <summary>Padding (at most half the window).</summary>
    public int Padding { get; set; }
}

/// <summary>Average pooling over square windows; zero padding counts towards the average.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AvgPool2DAttribute(int window) : UnnamedLayerAttribute
{
    /// <summary>Window size.</summary>
    public int Window { get; } = window;

    /// <summary>Stride; 0 (the default) means the window size.</summary>
    public int Stride { get; set; }

    /// <summary>Padding (at most half the window).</summary>
    public int Padding { get; set; }
}

/// <summary>Average over the whole spatial extent, C×H×W → C (flat).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class GlobalAvgPoolAttribute : UnnamedLayerAttribute;

/// <summary>C×H×W → C·H·W, channel-major (PyTorch's and ONNX's order).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class FlattenAttribute : UnnamedLayerAttribute;

/// <summary>Dropout: identity at inference, zeroes inputs with probability <c>rate</c> during training.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DropoutAttribute(double rate) : UnnamedLayerAttribute
{
    /// <summary>Drop probability in [0, 1).</summary>
    public double Rate { get; } = rate;
}

/// <summary>Softmax over a flat vector (turns logits into probabilities).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SoftmaxAttribute : UnnamedLayerAttribute;

/// <summary>Element-wise sum of layers of one shape: a residual connection. With one name, it is added to the previous layer.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AddAttribute(string name, params string[] inputs) : LayerAttribute
{
    /// <summary>The layer's name.</summary>
    public string Name { get; } = name;

    /// <summary>The layers summed (the previous layer is prepended when only one is named).</summary>
    public string[] Inputs { get; } = inputs;
}

/// <summary>Concatenation along channels. With one name, it is appended to the previous layer.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ConcatAttribute(string name, params string[] inputs) : LayerAttribute
{
    /// <summary>The layer's name.</summary>
    public string Name { get; } = name;

    /// <summary>The layers concatenated, in channel order (the previous layer is prepended when only one is named).</summary>
    public string[] Inputs { get; } = inputs;
}

/// <summary>
/// A basic residual block: conv 3×3 (stride) + BN + ReLU + conv 3×3 + BN, added to the shortcut, then ReLU.
/// The shortcut is the identity, or a 1×1 convolution + BN when the stride or channel count changes.
/// Expands to layers named <c>{name}.conv1</c>, <c>{name}.bn1</c>, …, <c>{name}.add</c>, <c>{name}.relu</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ResidualBlockAttribute(string name, int channels) : LayerAttribute
{
    /// <summary>The block's name (prefix of its layers' names).</summary>
    public string Name { get; } = name;

    /// <summary>Output channels.</summary>
    public int Channels { get; } = channels;

    /// <summary>Stride of the first convolution and of the projection (default 1).</summary>
    public int Stride { get; set; } = 1;
}
