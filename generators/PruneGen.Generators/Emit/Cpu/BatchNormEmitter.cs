using PruneGen.Model;

namespace PruneGen.Generators.Emit.Cpu;

/// <summary>BatchNorm at inference, with the running statistics.</summary>
internal sealed class BatchNormEmitter : ICpuLayerEmitter
{
    public void EmitShape(CodeWriter w, LayerNode node) =>
        CpuLayerEmitters.Constants(w, $"public readonly struct {node.Identifier} : global::PruneGen.Kernels.IChannelShape",
            ("Channels", node.OutputShape.Channels), ("Spatial", node.OutputShape.Spatial));

    public void EmitForward(CodeWriter w, LayerNode node, ForwardContext c) =>
        w.Line($"global::PruneGen.Kernels.BatchNormKernel<{ForwardContext.Shape(node)}>.Forward({c.In(node)}, {ForwardContext.Param(node, "weight")}, {ForwardContext.Param(node, "bias")}, {ForwardContext.Param(node, "running_mean")}, {ForwardContext.Param(node, "running_var")}, {c.Out(node)}, batch);");
}
