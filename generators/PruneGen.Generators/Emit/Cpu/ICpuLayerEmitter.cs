using PruneGen.Model;

namespace PruneGen.Generators.Emit.Cpu;

/// <summary>
/// Writes one layer kind's part of the CPU backend: the constant-shape struct its kernel is
/// specialized on, and the kernel call in <c>Forward</c>. A GPU backend adds a sibling folder with
/// the same split.
/// </summary>
internal interface ICpuLayerEmitter
{
    /// <summary>Writes the layer's shape struct (inside the private <c>KernelShapes</c> class), or nothing.</summary>
    void EmitShape(CodeWriter w, LayerNode node);

    /// <summary>Writes the statements that compute the layer's output in <c>Forward</c>.</summary>
    void EmitForward(CodeWriter w, LayerNode node, ForwardContext context);
}

/// <summary>Names the emitter uses inside <c>Forward</c>: the span each layer's output lives in, and its parameters.</summary>
internal sealed class ForwardContext
{
    /// <summary>The span variable holding layer <paramref name="index"/>'s output (−1: the input).</summary>
    public static string Var(NetworkGraph graph, int index) =>
        index < 0 ? "input" : char.ToLowerInvariant(graph.Layers[index].Identifier[0]) + graph.Layers[index].Identifier.Substring(1) + "Out";

    public ForwardContext(NetworkGraph graph) => Graph = graph;

    /// <summary>The network.</summary>
    public NetworkGraph Graph { get; }

    /// <summary>The variable of input <paramref name="k"/> of <paramref name="node"/>.</summary>
    public string In(LayerNode node, int k = 0) => Var(Graph, node.Inputs[k]);

    /// <summary>The variable of <paramref name="node"/>'s output.</summary>
    public string Out(LayerNode node) => Var(Graph, node.Index);

    /// <summary>The span of the parameter with <paramref name="suffix"/> (e.g. <c>bias</c>), or an empty span if the layer has none.</summary>
    public static string Param(LayerNode node, string suffix)
    {
        foreach (var p in node.Parameters)
        {
            if (p.Name == node.Name + "." + suffix)
            {
                return node.Identifier + NetworkBuilder.ParameterSuffix(p.Name) + ".Data";
            }
        }

        return "global::System.ReadOnlySpan<float>.Empty";
    }

    /// <summary>The fully qualified shape struct of <paramref name="node"/>.</summary>
    public static string Shape(LayerNode node) => "KernelShapes." + node.Identifier;
}
