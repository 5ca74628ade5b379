using PruneGen.Model;

namespace PruneGen.Generators.Emit.Cpu;

/// <summary>BatchNorm at inference, with the running statistics.</summary>
internal sealed class BatchNormEmitter : ICpuLayerEmitter
{
    public void EmitShape(CodeWriter w, LayerNode node) =>
        CpuLayerEmitters.Constants(w, $"public readonly struct {node.Identifier}Shape : global::PruneGen.Kernels.IChannelShape",
            ("Channels", node.OutputShape.Channels), ("Spatial", node.OutputShape.Spatial));

    public void EmitForward(CodeWriter w, LayerNode node, ForwardContext c)
    {
        if (c.Training)
        {
            var (mean, invStd) = ForwardContext.Saved(node);
            w.Line($"global::PruneGen.Kernels.BatchNormKernel<{ForwardContext.Shape(node)}>.TrainForward({c.In(node)}, {ForwardContext.Param(node, "weight")}, {ForwardContext.Param(node, "bias")}, {ForwardContext.Param(node, "running_mean")}, {ForwardContext.Param(node, "running_var")}, {c.Out(node)}, {mean}, {invStd}, batch, BatchNormMomentum);");
            return;
        }

        w.Line($"global::PruneGen.Kernels.BatchNormKernel<{ForwardContext.Shape(node)}>.Forward({c.In(node)}, {ForwardContext.Param(node, "weight")}, {ForwardContext.Param(node, "bias")}, {ForwardContext.Param(node, "running_mean")}, {ForwardContext.Param(node, "running_var")}, {c.Out(node)}, batch);");
    }

    // Differentiates y = γ·(x − μ_B)/σ_B + β with the batch statistics saved by the training forward.
    public void EmitBackward(CodeWriter w, LayerNode node, ForwardContext c)
    {
        var (mean, invStd) = ForwardContext.Saved(node);
        w.Line($"global::PruneGen.Kernels.BatchNormKernel<{ForwardContext.Shape(node)}>.Backward({c.In(node)}, {ForwardContext.Param(node, "weight")}, {mean}, {invStd}, {c.OutGrad(node)}, {c.InGrad(node) ?? ForwardContext.NoGradient}, {ForwardContext.ParamGrad(node, "weight")}, {ForwardContext.ParamGrad(node, "bias")}, batch);");
    }
}
