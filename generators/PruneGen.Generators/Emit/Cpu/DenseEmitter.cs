using PruneGen.Model;

namespace PruneGen.Generators.Emit.Cpu;

/// <summary>Dense layers: a constant-shape <c>DenseKernel</c> call (x · Wᵀ + b).</summary>
internal sealed class DenseEmitter : ICpuLayerEmitter
{
    public void EmitShape(CodeWriter w, LayerNode node) =>
        CpuLayerEmitters.Constants(w, $"public readonly struct {node.Identifier}Shape : global::PruneGen.Kernels.IDenseShape",
            ("In", node.InputShape.Size), ("Out", node.OutputShape.Size));

    public void EmitForward(CodeWriter w, LayerNode node, ForwardContext c)
    {
        if (c.StoreOf(node) is { } store)
        {
            w.Line($"global::PruneGen.Kernels.DenseKernel<{ForwardContext.Shape(node)}>.ForwardFused({c.In(node)}, {ForwardContext.Param(node, "weight")}, {ForwardContext.Param(node, "bias")}, {store.NormArgument()}, {store.ResidualArgument(c)}, {c.Out(store.Last)}, batch, relu: {(store.Relu is null ? "false" : "true")});");
            return;
        }

        w.Line($"global::PruneGen.Kernels.DenseKernel<{ForwardContext.Shape(node)}>.Forward({c.In(node)}, {ForwardContext.Param(node, "weight")}, {ForwardContext.Param(node, "bias")}, {c.Out(node)}, batch);");
    }

    // Differentiates y = x·Wᵀ + b: dx += dy·W, dW += dyᵀ·x, db += Σ dy.
    public void EmitBackward(CodeWriter w, LayerNode node, ForwardContext c) =>
        w.Line($"global::PruneGen.Kernels.DenseKernel<{ForwardContext.Shape(node)}>.Backward({c.In(node)}, {ForwardContext.Param(node, "weight")}, {c.OutGrad(node)}, {c.InGrad(node) ?? ForwardContext.NoGradient}, {ForwardContext.ParamGrad(node, "weight")}, {ForwardContext.ParamGrad(node, "bias")}, batch);");
}
