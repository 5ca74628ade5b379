using System.Collections.Generic;
using System.Linq;
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
    private readonly Dictionary<int, FusedStore> _stores = new();
    private readonly Dictionary<int, FusedStore> _fusedAway = new();

    public ForwardContext(NetworkGraph graph, bool training)
    {
        Graph = graph;
        Training = training;
        if (!training)
        {
            FindFusedStores();
        }
    }

    /// <summary>The network.</summary>
    public NetworkGraph Graph { get; }

    /// <summary>True while writing the training passes (BatchNorm on batch statistics, dropout masks).</summary>
    public bool Training { get; }

    /// <summary>
    /// Inference: the fused store headed by convolution or dense layer <paramref name="node"/>, or null. Its
    /// kernel applies the following BatchNorm, residual Add and ReLU while writing, so those layers compute
    /// nothing of their own (training keeps them apart: their backward passes need each intermediate tensor).
    /// </summary>
    public FusedStore? StoreOf(LayerNode node) => _stores.TryGetValue(node.Index, out var s) ? s : null;

    /// <summary>The fused store that computes <paramref name="node"/> (a BatchNorm, Add or ReLU after its head), or null.</summary>
    public FusedStore? FusedInto(LayerNode node) => _fusedAway.TryGetValue(node.Index, out var s) ? s : null;

    /// <summary>Whether <paramref name="node"/>'s output never exists in this mode (a fused store writes only its last layer's output).</summary>
    public bool HasNoMemory(LayerNode node) =>
        IsAlias(node) || StoreOf(node) is not null || (FusedInto(node) is { } s && s.Last != node);

    /// <summary>Whether layer <paramref name="node"/> reuses its input's memory in this mode.</summary>
    public bool IsAlias(LayerNode node) => node.Kind == LayerKind.Flatten || (node.Kind == LayerKind.Dropout && !Training);

    /// <summary>The span variable holding layer <paramref name="index"/>'s output (−1: the input).</summary>
    public string Var(int index) => index < 0 ? "input" : Camel(Graph.Layers[index].Identifier) + "Out";

    /// <summary>
    /// The layer whose memory layer <paramref name="index"/>'s output lives in: itself, or for an alias the layer it
    /// aliases (through chains of aliases); −1 for the network input.
    /// </summary>
    public int MemoryOf(int index)
    {
        while (index >= 0 && IsAlias(Graph.Layers[index]))
        {
            index = Graph.Layers[index].Inputs[0];
        }

        return index;
    }

    /// <summary>The gradient span of layer <paramref name="index"/>'s output, or null for the network input (whose gradient is not needed).</summary>
    public string? Grad(int index)
    {
        var owner = MemoryOf(index);
        return owner < 0 ? null : Camel(Graph.Layers[owner].Identifier) + "Grad";
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

    /// <summary>
    /// Chains a convolution or dense layer with what follows it when each link is the only reader of the one
    /// before: [BatchNorm] → [Add of a tensor computed before the head] → [ReLU]. The network output and tensors
    /// read twice stay materialized.
    /// </summary>
    private void FindFusedStores()
    {
        var readers = new List<int>[Graph.Layers.Count];
        for (var i = 0; i < readers.Length; i++)
        {
            readers[i] = new List<int>();
        }

        foreach (var l in Graph.Layers)
        {
            foreach (var input in l.Inputs)
            {
                if (input >= 0)
                {
                    readers[input].Add(l.Index);
                }
            }
        }

        LayerNode? OnlyReader(LayerNode node) =>
            node.Index != Graph.Output.Index && readers[node.Index].Count == 1 ? Graph.Layers[readers[node.Index][0]] : null;

        foreach (var head in Graph.Layers)
        {
            if (head.Kind is not (LayerKind.Conv2D or LayerKind.Dense))
            {
                continue;
            }

            var last = head;
            LayerNode? norm = null, add = null, relu = null;
            int residual = 0;
            if (OnlyReader(last) is { Kind: LayerKind.BatchNorm } bn)
            {
                norm = last = bn;
            }

            if (OnlyReader(last) is { Kind: LayerKind.Add } a && a.Inputs.Count == 2)
            {
                var other = a.Inputs[0] == last.Index ? a.Inputs[1] : a.Inputs[0];
                if (other != last.Index && other < head.Index && (other < 0 || !IsAlias(Graph.Layers[other])))
                {
                    (add, residual, last) = (a, other, a);
                }
            }

            if (OnlyReader(last) is { Kind: LayerKind.ReLU } r)
            {
                relu = last = r;
            }

            if (last == head)
            {
                continue;
            }

            var store = new FusedStore(head, norm, add, residual, relu, last);
            _stores[head.Index] = store;
            foreach (var member in new[] { norm, add, relu })
            {
                if (member is not null)
                {
                    _fusedAway[member.Index] = store;
                }
            }
        }
    }
}

/// <summary>A convolution or dense layer and the layers its kernel applies while storing (inference).</summary>
/// <param name="Head">The convolution or dense layer.</param>
/// <param name="Norm">The BatchNorm folded into the store, or null.</param>
/// <param name="Add">The residual Add, or null.</param>
/// <param name="Residual">The layer index (−1: the input) of the Add's other operand, when <paramref name="Add"/> is set.</param>
/// <param name="Relu">The ReLU applied last, or null.</param>
/// <param name="Last">The layer whose output the store writes.</param>
internal sealed record FusedStore(LayerNode Head, LayerNode? Norm, LayerNode? Add, int Residual, LayerNode? Relu, LayerNode Last)
{
    /// <summary>The kernel's <c>BatchNormParameters</c> argument.</summary>
    public string NormArgument() => Norm is null
        ? "default"
        : $"new global::PruneGen.Kernels.BatchNormParameters({ForwardContext.Param(Norm, "weight")}, {ForwardContext.Param(Norm, "bias")}, {ForwardContext.Param(Norm, "running_mean")}, {ForwardContext.Param(Norm, "running_var")})";

    /// <summary>The kernel's residual argument: the Add's other operand, or an empty span.</summary>
    public string ResidualArgument(ForwardContext c) => Add is null ? "global::System.ReadOnlySpan<float>.Empty" : c.Var(Residual);

    /// <summary>The layers' names joined with " + " (for the generated comment).</summary>
    public string Describe() => string.Join(" + ", new[] { Head, Norm, Add, Relu }.Where(l => l is not null).Select(l => l!.Name));
}
