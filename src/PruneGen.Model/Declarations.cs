using System;

namespace PruneGen.Model;

/// <summary>The kinds of layer the DSL can declare.</summary>
public enum LayerKind
{
    /// <summary>Fully connected layer: <c>y = x·Wᵀ + b</c>.</summary>
    Dense,

    /// <summary>2-D convolution (optionally grouped).</summary>
    Conv2D,

    /// <summary>Depthwise convolution; expanded to <see cref="Conv2D"/> with one group per channel.</summary>
    DepthwiseConv2D,

    /// <summary>Batch normalization over channels (2-D input) or features (flat input).</summary>
    BatchNorm,

    /// <summary>max(x, 0).</summary>
    ReLU,

    /// <summary>x if x &gt; 0 else αx.</summary>
    LeakyReLU,

    /// <summary>1 / (1 + e^(−x)).</summary>
    Sigmoid,

    /// <summary>tanh(x).</summary>
    Tanh,

    /// <summary>Maximum over square windows.</summary>
    MaxPool2D,

    /// <summary>Average over square windows (padding counted as zeros, divisor = window area).</summary>
    AvgPool2D,

    /// <summary>Average over the whole spatial extent; produces a flat vector of channels.</summary>
    GlobalAvgPool,

    /// <summary>C×H×W → flat C·H·W, channel-major (the same order as PyTorch and ONNX).</summary>
    Flatten,

    /// <summary>Identity at inference; zeroes inputs with probability <c>rate</c> in training.</summary>
    Dropout,

    /// <summary>Element-wise sum of two or more tensors of one shape (residual connections).</summary>
    Add,

    /// <summary>Concatenation along channels.</summary>
    Concat,

    /// <summary>Softmax over a flat vector.</summary>
    Softmax,

    /// <summary>A basic residual block (conv-BN-ReLU-conv-BN + shortcut, then ReLU); expanded by the builder.</summary>
    ResidualBlock,
}

/// <summary>
/// One layer exactly as the user declared it, before names are completed and shapes inferred.
/// </summary>
/// <param name="Name">The layer's name, or an empty string for a derived one (kind + counter, e.g. <c>relu2</c>).</param>
/// <param name="Kind">What the layer computes.</param>
/// <param name="Inputs">Names of the layers it reads; empty means "the previous layer".</param>
/// <param name="Size">Units (dense) or output channels (convolution, residual block); 0 where unused.</param>
/// <param name="Kernel">Square kernel or window size; 0 where unused.</param>
/// <param name="Stride">Stride; 0 means the kind's default (1, or the window size for pooling).</param>
/// <param name="Padding">Zero padding on every side.</param>
/// <param name="Groups">Convolution groups (1 = dense convolution).</param>
/// <param name="Bias">Whether a dense or convolution layer has a bias.</param>
/// <param name="Alpha">LeakyReLU slope or dropout rate.</param>
/// <param name="DeclarationIndex">Index of the attribute that declared it (diagnostics point there).</param>
public sealed record LayerDeclaration(
    string Name,
    LayerKind Kind,
    EquatableArray<string> Inputs,
    int Size = 0,
    int Kernel = 0,
    int Stride = 0,
    int Padding = 0,
    int Groups = 1,
    bool Bias = true,
    double Alpha = 0,
    int DeclarationIndex = 0);

/// <summary>A whole network as declared: an input shape and the layers in order.</summary>
/// <param name="Name">The network's name (its class name).</param>
/// <param name="InputChannels">Channels of one input sample (or its length when it is flat).</param>
/// <param name="InputHeight">Height of one input sample (1 for flat input).</param>
/// <param name="InputWidth">Width of one input sample (1 for flat input).</param>
/// <param name="Layers">The declared layers in declaration order.</param>
public sealed record NetworkDeclaration(
    string Name,
    int InputChannels,
    int InputHeight,
    int InputWidth,
    EquatableArray<LayerDeclaration> Layers)
{
    /// <summary>Whether the input is a flat vector (declared with one dimension).</summary>
    public bool FlatInput => InputHeight == 1 && InputWidth == 1;
}

/// <summary>Shape of one sample of a tensor (the batch dimension is not part of it).</summary>
/// <param name="Channels">Channels, or features of a flat vector.</param>
/// <param name="Height">Height (1 when flat).</param>
/// <param name="Width">Width (1 when flat).</param>
/// <param name="Flat">True for a vector (after Flatten, Dense or global pooling).</param>
public readonly record struct TensorShape(int Channels, int Height, int Width, bool Flat)
{
    /// <summary>Number of floats in one sample.</summary>
    public int Size => Channels * Height * Width;

    /// <summary>Spatial positions per channel.</summary>
    public int Spatial => Height * Width;

    /// <inheritdoc />
    public override string ToString() => Flat ? $"{Channels}" : $"{Channels}×{Height}×{Width}";
}

/// <summary>A named parameter (or running statistic) tensor of a layer.</summary>
/// <param name="Name">Full name, e.g. <c>conv1.weight</c> (PyTorch's naming, so checkpoints interoperate).</param>
/// <param name="Shape">Dimensions, PyTorch layout (dense <c>[out, in]</c>, conv <c>[out, in/groups, k, k]</c>).</param>
/// <param name="Trainable">False for BatchNorm running statistics.</param>
public sealed record ParameterSpec(string Name, EquatableArray<int> Shape, bool Trainable)
{
    /// <summary>Number of elements.</summary>
    public int Length
    {
        get
        {
            var n = 1;
            foreach (var d in Shape)
            {
                n *= d;
            }

            return n;
        }
    }
}

/// <summary>A problem found while building a network graph from its declaration.</summary>
/// <param name="Id">The stable diagnostic ID (see <see cref="DiagnosticIds"/>).</param>
/// <param name="DeclarationIndex">The attribute it belongs to, or −1 for the network itself.</param>
/// <param name="Message">What is wrong, naming the layer and the fix.</param>
public sealed record GraphError(string Id, int DeclarationIndex, string Message);

/// <summary>The stable IDs of PruneGen's diagnostics (shared by the generator and the runtime).</summary>
public static class DiagnosticIds
{
    /// <summary>A network class is not <c>partial</c>.</summary>
    public const string NotPartial = "PG0001";

    /// <summary>A network declares no layers.</summary>
    public const string EmptyNetwork = "PG0002";

    /// <summary>Two layers share a name.</summary>
    public const string DuplicateName = "PG0003";

    /// <summary>A layer reads a layer that does not exist or is declared later.</summary>
    public const string UnknownLayer = "PG0004";

    /// <summary>A size, kernel, stride or group count is not positive (or padding is negative).</summary>
    public const string NonPositiveSize = "PG0005";

    /// <summary>A kernel or window is larger than the padded input.</summary>
    public const string KernelTooLarge = "PG0006";

    /// <summary>A layer's output would have no rows or columns.</summary>
    public const string SpatialCollapse = "PG0007";

    /// <summary>The tensors joined by an add have different shapes.</summary>
    public const string AddShapeMismatch = "PG0008";

    /// <summary>The tensors joined by a concat have different spatial sizes.</summary>
    public const string ConcatShapeMismatch = "PG0009";

    /// <summary>Convolution groups do not divide the channel counts.</summary>
    public const string GroupsMismatch = "PG0010";

    /// <summary>A layer kind cannot read the tensor its input produces.</summary>
    public const string InvalidSequence = "PG0011";

    /// <summary>The generator failed unexpectedly.</summary>
    public const string InternalError = "PG0012";

    /// <summary>A layer name is not a valid name.</summary>
    public const string InvalidName = "PG0013";

    /// <summary>Two layer names map to the same generated C# identifier.</summary>
    public const string IdentifierCollision = "PG0014";

    /// <summary>An argument is outside its valid range (dropout rate, slope).</summary>
    public const string InvalidArgument = "PG0015";

    /// <summary>Layer attributes on a class without <c>[Network]</c>, or a network class that is generic or nested.</summary>
    public const string InvalidNetworkClass = "PG0016";

    /// <summary>A channel override names a layer the network does not have (or one inside a removed block).</summary>
    public const string OverrideUnknownLayer = "PG0017";

    /// <summary>A channel override names a layer whose width is not its own to set (not a Conv2D or Dense, or a depthwise convolution).</summary>
    public const string OverrideNotPrunable = "PG0018";

    /// <summary>A channel override keeps fewer than 1 or more than the declared channels.</summary>
    public const string OverrideChannelsOutOfRange = "PG0019";

    /// <summary>A removed block is not a residual block of the network.</summary>
    public const string RemovedBlockUnknown = "PG0020";

    /// <summary>A removed block has a projection shortcut (only identity-shortcut blocks can be removed).</summary>
    public const string RemovedBlockHasProjection = "PG0021";

    /// <summary>A removed layer is not a layer of the network, or not one that can be removed (shape change, inexact mask, inside a block).</summary>
    public const string RemovedLayerInvalid = "PG0027";

    /// <summary>A network needs more multiply-accumulates per sample than its <c>[MaxMacs]</c> budget.</summary>
    public const string MacsBudgetExceeded = "PG0022";

    /// <summary>A network has more trainable parameters than its <c>[MaxParameters]</c> budget.</summary>
    public const string ParameterBudgetExceeded = "PG0023";

    /// <summary>A network's Forward needs more workspace than its <c>[MaxActivationMemory]</c> budget.</summary>
    public const string ActivationMemoryBudgetExceeded = "PG0024";

    /// <summary>A layer's output shape differs from its <c>[ExpectShape]</c>.</summary>
    public const string ShapeMismatch = "PG0025";

    /// <summary>An <c>[ExpectShape]</c> names a layer the network does not have.</summary>
    public const string ExpectShapeUnknownLayer = "PG0026";
}
