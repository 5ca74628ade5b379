using PruneGen.Model;

namespace PruneGen.Generators.Emit.Cpu;

/// <summary>Convolutions: a constant-shape <c>Conv2DKernel</c> call (im2col + GEMM, or direct GEMM for 1×1).</summary>
internal sealed class Conv2DEmitter : ICpuLayerEmitter
{
    public void EmitShape(CodeWriter w, LayerNode node) =>
        CpuLayerEmitters.Constants(w, $"public readonly struct {node.Identifier}Shape : global::PruneGen.Kernels.IConv2DShape",
            ("InChannels", node.InputShape.Channels), ("InHeight", node.InputShape.Height), ("InWidth", node.InputShape.Width),
            ("OutChannels", node.OutputShape.Channels), ("OutHeight", node.OutputShape.Height), ("OutWidth", node.OutputShape.Width),
            ("Kernel", node.Kernel), ("Stride", node.Stride), ("Padding", node.Padding), ("Groups", node.Groups));

    public void EmitForward(CodeWriter w, LayerNode node, ForwardContext c)
    {
        if (c.StoreOf(node) is { } store)
        {
            w.Line($"global::PruneGen.Kernels.Conv2DKernel<{ForwardContext.Shape(node)}>.ForwardFused({c.In(node)}, {ForwardContext.Param(node, "weight")}, {ForwardContext.Param(node, "bias")}, {store.NormArgument()}, {store.ResidualArgument(c)}, {c.Out(store.Last)}, batch, scratch, relu: {(store.Relu is null ? "false" : "true")});");
            return;
        }

        w.Line($"global::PruneGen.Kernels.Conv2DKernel<{ForwardContext.Shape(node)}>.Forward({c.In(node)}, {ForwardContext.Param(node, "weight")}, {ForwardContext.Param(node, "bias")}, {c.Out(node)}, batch, scratch);");
    }

    // Differentiates y = W·im2col(x) + b: dW += dy·im2col(x)ᵀ, dx += col2im(Wᵀ·dy), db += Σ dy.
    public void EmitBackward(CodeWriter w, LayerNode node, ForwardContext c) =>
        w.Line($"global::PruneGen.Kernels.Conv2DKernel<{ForwardContext.Shape(node)}>.Backward({c.In(node)}, {ForwardContext.Param(node, "weight")}, {c.OutGrad(node)}, {c.InGrad(node) ?? ForwardContext.NoGradient}, {ForwardContext.ParamGrad(node, "weight")}, {ForwardContext.ParamGrad(node, "bias")}, batch, scratch);");
}
