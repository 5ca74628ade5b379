using PruneGen.Model;

namespace PruneGen.Generators.Emit.Cpu;

/// <summary>
/// Writes one layer kind's part of the CPU backend: the constant-shape struct its kernel is
/// specialized on, the kernel call in the forward passes, and — next to it — the backward call that
/// differentiates it. A GPU backend adds a sibling folder with the same split.
/// </summary>
internal interface ICpuLayerEmitter
{
    /// <summary>Writes the layer's shape struct (inside the private <c>KernelShapes</c> class), or nothing.</summary>
    void EmitShape(CodeWriter w, LayerNode node);

    /// <summary>Writes the statements that compute the layer's output (inference or training mode, see <see cref="ForwardContext.Training"/>).</summary>
    void EmitForward(CodeWriter w, LayerNode node, ForwardContext context);

    /// <summary>Writes the statements that add the layer's contribution to its inputs' and parameters' gradients.</summary>
    void EmitBackward(CodeWriter w, LayerNode node, ForwardContext context);
}

/// <summary>Names the emitter uses inside the passes: the span each layer's output and gradient live in, and its parameters.</summary>
internal sealed class ForwardContext
{
    public ForwardContext(NetworkGraph graph, bool training)
    {
        Graph = graph;
        Training = training;
    }

    /// <summary>The network.</summary>
    public NetworkGraph Graph { get; }

    /// <summary>True while writing the training passes (BatchNorm on batch statistics, dropout masks).</summary>
    public bool Training { get; }

    /// <summary>Whether layer <paramref name="node"/> reuses its input's memory in this mode.</summary>
    public bool IsAlias(LayerNode node) => node.Kind == LayerKind.Flatten || (node.Kind == LayerKind.Dropout && !Training);

    /// <summary>The span variable holding layer <paramref name="index"/>'s output (−1: the input).</summary>
    public string Var(int index) => index < 0 ? "input" : Camel(Graph.Layers[index].Identifier) + "Out";

    /// <summary>The gradient span of layer <paramref name="index"/>'s output, or null for the network input (whose gradient is not needed).</summary>
    public string? Grad(int index)
    {
        if (index < 0)
        {
            return null;
        }

        var node = Graph.Layers[index];
        return IsAlias(node) ? Grad(node.Inputs[0]) : Camel(node.Identifier) + "Grad";
    }

    /// <summary>The variable of input <paramref name="k"/> of <paramref name="node"/>.</summary>
    public string In(LayerNode node, int k = 0) => Var(node.Inputs[k]);

    /// <summary>The variable of <paramref name="node"/>'s output.</summary>
    public string Out(LayerNode node) => Var(node.Index);

    /// <summary>The gradient of input <paramref name="k"/> of <paramref name="node"/>, or null.</summary>
    public string? InGrad(LayerNode node, int k = 0) => Grad(node.Inputs[k]);

    /// <summary>The gradient of <paramref name="node"/>'s output.</summary>
    public string OutGrad(LayerNode node) => Grad(node.Index)!;

    /// <summary>The BatchNorm statistics (mean, 1/std) saved by the training forward for <paramref name="node"/>.</summary>
    public static (string Mean, string InvStd) Saved(LayerNode node) => (Camel(node.Identifier) + "SavedMean", Camel(node.Identifier) + "SavedInvStd");

    /// <summary>The dropout mask of <paramref name="node"/>.</summary>
    public static string Mask(LayerNode node) => Camel(node.Identifier) + "Mask";

    /// <summary>The span of the parameter with <paramref name="suffix"/> (e.g. <c>bias</c>), or an empty span if the layer has none.</summary>
    public static string Param(LayerNode node, string suffix) => Member(node, suffix, "Data", "global::System.ReadOnlySpan<float>.Empty");

    /// <summary>The gradient of the parameter with <paramref name="suffix"/>, or an empty span.</summary>
    public static string ParamGrad(LayerNode node, string suffix) => Member(node, suffix, "Gradient", "global::System.Span<float>.Empty");

    /// <summary>The fully qualified shape struct of <paramref name="node"/>.</summary>
    public static string Shape(LayerNode node) => "KernelShapes." + node.Identifier + "Shape";

    /// <summary>An empty writable span, passed where an input needs no gradient.</summary>
    public const string NoGradient = "global::System.Span<float>.Empty";

    private static string Member(LayerNode node, string suffix, string member, string missing)
    {
        foreach (var p in node.Parameters)
        {
            if (p.Name == node.Name + "." + suffix)
            {
                return node.Identifier + NetworkBuilder.ParameterSuffix(p.Name) + "." + member;
            }
        }

        return missing;
    }

    private static string Camel(string identifier) => char.ToLowerInvariant(identifier[0]) + identifier.Substring(1);
}
