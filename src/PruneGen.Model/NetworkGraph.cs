using System.Collections.Generic;

namespace PruneGen.Model;

/// <summary>
/// One layer of a built network: where it reads from, the shape it produces, what it costs.
/// Macros (residual blocks, depthwise convolutions) are already expanded into primitive layers.
/// </summary>
/// <param name="Index">Position in <see cref="NetworkGraph.Layers"/> (topological order).</param>
/// <param name="Name">Stable layer name; keys parameters, plans and diagnostics.</param>
/// <param name="Identifier">The PascalCase C# identifier generated code uses for the layer.</param>
/// <param name="Kind">What the layer computes (never a macro kind).</param>
/// <param name="Inputs">Indices of the layers it reads; −1 is the network input.</param>
/// <param name="InputShape">Shape of its first input.</param>
/// <param name="OutputShape">Shape it produces.</param>
/// <param name="Kernel">Kernel or window size (0 where unused).</param>
/// <param name="Stride">Stride (0 where unused).</param>
/// <param name="Padding">Zero padding on every side.</param>
/// <param name="Groups">Convolution groups.</param>
/// <param name="Bias">Whether a dense or convolution layer has a bias.</param>
/// <param name="Alpha">LeakyReLU slope or dropout rate.</param>
/// <param name="Macs">Multiply-accumulates for one sample (dense and convolution layers; 0 elsewhere).</param>
/// <param name="Parameters">Named tensors the layer owns (weights, biases, BatchNorm statistics).</param>
/// <param name="Block">Name of the residual block the layer belongs to, or null.</param>
/// <param name="DeclarationIndex">Index of the attribute that declared it.</param>
public sealed record LayerNode(
    int Index,
    string Name,
    string Identifier,
    LayerKind Kind,
    EquatableArray<int> Inputs,
    TensorShape InputShape,
    TensorShape OutputShape,
    int Kernel,
    int Stride,
    int Padding,
    int Groups,
    bool Bias,
    double Alpha,
    long Macs,
    EquatableArray<ParameterSpec> Parameters,
    string? Block,
    int DeclarationIndex)
{
    /// <summary>Number of trainable parameters.</summary>
    public long TrainableParameterCount
    {
        get
        {
            long n = 0;
            foreach (var p in Parameters)
            {
                if (p.Trainable)
                {
                    n += p.Length;
                }
            }

            return n;
        }
    }

    /// <summary>
    /// Floats of convolution scratch one kernel thread needs at inference: the larger of the im2col columns (and
    /// product) for <see cref="SamplesPerProduct"/> samples side by side and the implicit product
    /// (<see cref="ImplicitProductLength"/>), plus the bordered input (<see cref="PaddedInputLength"/>); 0 for a 1×1
    /// stride-1 unpadded convolution, which multiplies the input directly. The generated code sizes its workspace
    /// from this and <c>Conv2DKernel.ScratchLength</c> must equal it (ScratchLengthTests).
    /// </summary>
    public int Im2ColLength
    {
        get
        {
            if (Kind != LayerKind.Conv2D || (Kernel == 1 && Stride == 1 && Padding == 0))
            {
                return 0;
            }

            var spatial = OutputShape.Spatial;
            var padded = AlignColumns(SamplesPerProduct(spatial) * spatial);
            var patch = InputShape.Channels / Groups * Kernel * Kernel;
            var unfolded = (patch * padded) + (padded != spatial ? OutputShape.Channels / Groups * padded : 0);
            return System.Math.Max(unfolded, ImplicitProductLength) + PaddedInputLength;
        }
    }

    /// <summary>
    /// Floats of the product a stride-1 convolution computes straight from its bordered input, without im2col: one
    /// group's output channels by the output rows at the bordered width (the columns past each output row are
    /// computed and dropped), rounded up to whole vectors; 0 for other layers.
    /// </summary>
    public int ImplicitProductLength => Kind != LayerKind.Conv2D || Stride != 1 || (Kernel == 1 && Padding == 0)
        ? 0
        : OutputShape.Channels / Groups * AlignColumns(OutputShape.Height * (InputShape.Width + (2 * Padding)));

    /// <summary>
    /// How many samples' im2col columns one convolution product covers side by side, for an output of
    /// <paramref name="outSpatial"/> positions: the fewest (at most 8) whose columns fill whole vectors of
    /// <see cref="Im2ColRowAlignment"/> at least 15/16 full. A 7×7 output alone fills 49 of 64 lanes; four
    /// samples fill 196 of 208.
    /// </summary>
    public static int SamplesPerProduct(int outSpatial)
    {
        var best = 1;
        for (var samples = 1; samples <= 8; samples++)
        {
            var columns = samples * outSpatial;
            if (AlignColumns(columns) * 15 <= columns * 16)
            {
                return samples;
            }

            if ((long)columns * AlignColumns(best * outSpatial) > (long)best * outSpatial * AlignColumns(columns))
            {
                best = samples;
            }
        }

        return best;
    }

    /// <summary><paramref name="columns"/> rounded up to a multiple of <see cref="Im2ColRowAlignment"/>.</summary>
    public static int AlignColumns(int columns) => (columns + Im2ColRowAlignment - 1) / Im2ColRowAlignment * Im2ColRowAlignment;

    /// <summary>
    /// Floats of one group's input with its zero border, which a convolution's im2col reads whole output rows from
    /// (no edge tests per row), plus slack for the vectors read past the last row (up to 15 floats past the last
    /// output row's taps, see <see cref="ImplicitProductLength"/>); 0 for other layers and for a 1×1
    /// stride-1 unpadded convolution, which has no im2col.
    /// </summary>
    public int PaddedInputLength => Kind != LayerKind.Conv2D || (Kernel == 1 && Stride == 1 && Padding == 0)
        ? 0
        : (InputShape.Channels / Groups * (InputShape.Height + (2 * Padding)) * (InputShape.Width + (2 * Padding))) + Im2ColRowAlignment + Kernel;

    /// <summary>
    /// Columns of an im2col row are padded (with zeros) to a multiple of this: one 512-bit vector, so the
    /// convolution's matrix product runs on whole vectors only. The padded product of one group lands in
    /// scratch too, and the kernel's fused store copies the real columns out.
    /// </summary>
    public const int Im2ColRowAlignment = 16;

    /// <summary>
    /// Floats of scratch the backward pass of a convolution needs (see <c>Conv2DKernel.BackwardScratchLength</c>):
    /// the unfolded input and its gradient (or the implicit input gradient's product), one sample's output gradient
    /// transposed, the transposed weight gradient and bias gradient, and the bordered input and output gradient.
    /// Per kernel thread.
    /// </summary>
    public int BackwardScratchLength
    {
        get
        {
            if (Kind != LayerKind.Conv2D)
            {
                return 0;
            }

            var patch = InputShape.Channels / Groups * Kernel * Kernel;
            // The transposed output and weight gradients have the group's output channels padded to whole vectors.
            var groupOut = AlignColumns(OutputShape.Channels / Groups);
            // The training forward calls the same kernel as inference with this scratch, so it covers both.
            var spatial = OutputShape.Spatial;
            var inputGradient = 0;
            var borderedGradient = 0;
            if (ImplicitProductLength > 0 && Padding <= Kernel - 1)
            {
                // The input gradient as a convolution of the output gradient bordered by K − 1 − P (Conv2DKernel.ImplicitInputGradient).
                var border = Kernel - 1 - Padding;
                int bh = OutputShape.Height + (2 * border), bw = OutputShape.Width + (2 * border);
                inputGradient = InputShape.Channels / Groups * AlignColumns(InputShape.Height * bw);
                borderedGradient = (OutputShape.Channels / Groups * bh * bw) + Im2ColRowAlignment + Kernel;
            }

            return System.Math.Max(Im2ColLength, (patch * spatial) + System.Math.Max(patch * spatial, inputGradient) + (spatial * groupOut) + (Groups * patch * groupOut) + OutputShape.Channels + PaddedInputLength + borderedGradient);
        }
    }

    private readonly int _baseChannels;

    /// <summary>
    /// The layer's output channels (or features) in the un-pruned base network: equal to
    /// <see cref="OutputShape"/>'s channels unless the graph was built with <see cref="NetworkOverrides"/>
    /// that narrowed this layer or a layer it follows (generated code says "pruned from N").
    /// </summary>
    public int BaseChannels
    {
        get => _baseChannels > 0 ? _baseChannels : OutputShape.Channels;

        // Stored only when it differs, so an un-pruned node equals the same node of the base graph.
        init => _baseChannels = value == OutputShape.Channels ? 0 : value;
    }

    /// <summary>Whether pruning narrowed this layer's output (<see cref="BaseChannels"/> is larger than its channels).</summary>
    public bool IsPruned => BaseChannels != OutputShape.Channels;

    /// <summary>Whether the layer writes nothing of its own and reuses its input's memory (flatten, dropout at inference).</summary>
    public bool IsAlias => Kind is LayerKind.Flatten or LayerKind.Dropout;
}

/// <summary>
/// A network as a graph of shaped layers: the single source of truth for shapes, costs, parameter
/// names and edges. The generator builds it at compile time to emit code; the runtime builds the
/// same graph from the declaration the generated code carries, for pruning, export and tooling.
/// </summary>
/// <param name="Name">The network's name.</param>
/// <param name="InputShape">Shape of one input sample.</param>
/// <param name="Layers">Layers in topological (declaration) order.</param>
public sealed record NetworkGraph(string Name, TensorShape InputShape, EquatableArray<LayerNode> Layers)
{
    /// <summary>The declaration the graph was built from (pruning rebuilds the graph from it with overrides).</summary>
    public NetworkDeclaration? Declaration { get; init; }

    /// <summary>The overrides the graph was built with (<see cref="NetworkOverrides.None"/> for a base network).</summary>
    public NetworkOverrides Overrides { get; init; } = NetworkOverrides.None;

    /// <summary>The last layer, whose output is the network's output.</summary>
    public LayerNode Output => Layers[Layers.Count - 1];

    /// <summary>Shape of one output sample.</summary>
    public TensorShape OutputShape => Output.OutputShape;

    /// <summary>Multiply-accumulates per sample, summed over layers.</summary>
    public long TotalMacs
    {
        get
        {
            long n = 0;
            foreach (var l in Layers)
            {
                n += l.Macs;
            }

            return n;
        }
    }

    /// <summary>Trainable parameters, summed over layers.</summary>
    public long TotalParameters
    {
        get
        {
            long n = 0;
            foreach (var l in Layers)
            {
                n += l.TrainableParameterCount;
            }

            return n;
        }
    }

    /// <summary>Every parameter tensor in layer order.</summary>
    public IEnumerable<ParameterSpec> AllParameters
    {
        get
        {
            foreach (var l in Layers)
            {
                foreach (var p in l.Parameters)
                {
                    yield return p;
                }
            }
        }
    }

    /// <summary>Shape of what layer <paramref name="index"/> produces (−1: the network input).</summary>
    public TensorShape ShapeOf(int index) => index < 0 ? InputShape : Layers[index].OutputShape;

    /// <summary>Indices of the layers that read layer <paramref name="index"/>'s output.</summary>
    public IEnumerable<int> ConsumersOf(int index)
    {
        foreach (var l in Layers)
        {
            foreach (var i in l.Inputs)
            {
                if (i == index)
                {
                    yield return l.Index;
                    break;
                }
            }
        }
    }

    /// <summary>Finds a layer by name, or null.</summary>
    public LayerNode? Find(string name)
    {
        foreach (var l in Layers)
        {
            if (l.Name == name)
            {
                return l;
            }
        }

        return null;
    }
}

/// <summary>The outcome of building a graph: the graph (null when there are errors) and the errors.</summary>
/// <param name="Graph">The built graph, or null if any error was found.</param>
/// <param name="Errors">Everything wrong with the declaration, in declaration order.</param>
public sealed record BuildResult(NetworkGraph? Graph, EquatableArray<GraphError> Errors);
