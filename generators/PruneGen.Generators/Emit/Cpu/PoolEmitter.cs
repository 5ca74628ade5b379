using PruneGen.Model;

namespace PruneGen.Generators.Emit.Cpu;

/// <summary>Max, average and global average pooling.</summary>
internal sealed class PoolEmitter : ICpuLayerEmitter
{
    public void EmitShape(CodeWriter w, LayerNode node)
    {
        if (node.Kind == LayerKind.GlobalAvgPool)
        {
            CpuLayerEmitters.Constants(w, $"public readonly struct {node.Identifier}Shape : global::PruneGen.Kernels.IChannelShape",
                ("Channels", node.InputShape.Channels), ("Spatial", node.InputShape.Spatial));
            return;
        }

        CpuLayerEmitters.Constants(w, $"public readonly struct {node.Identifier}Shape : global::PruneGen.Kernels.IPool2DShape",
            ("Channels", node.InputShape.Channels), ("InHeight", node.InputShape.Height), ("InWidth", node.InputShape.Width),
            ("OutHeight", node.OutputShape.Height), ("OutWidth", node.OutputShape.Width),
            ("Window", node.Kernel), ("Stride", node.Stride), ("Padding", node.Padding));
    }

    public void EmitForward(CodeWriter w, LayerNode node, ForwardContext c)
    {
        var shape = ForwardContext.Shape(node);
        w.Line(node.Kind switch
        {
            LayerKind.MaxPool2D => $"global::PruneGen.Kernels.Pool2DKernel<{shape}>.MaxForward({c.In(node)}, {c.Out(node)}, batch);",
            LayerKind.AvgPool2D => $"global::PruneGen.Kernels.Pool2DKernel<{shape}>.AvgForward({c.In(node)}, {c.Out(node)}, batch);",
            _ => $"global::PruneGen.Kernels.GlobalAvgPoolKernel<{shape}>.Forward({c.In(node)}, {c.Out(node)}, batch);",
        });
    }

    // Differentiates pooling: max routes each gradient to its window's winner, averages spread it evenly.
    public void EmitBackward(CodeWriter w, LayerNode node, ForwardContext c)
    {
        var dx = c.InGrad(node);
        if (dx is null)
        {
            w.Line("// (reads the network input, whose gradient is not needed)");
            return;
        }

        var shape = ForwardContext.Shape(node);
        w.Line(node.Kind switch
        {
            LayerKind.MaxPool2D => $"global::PruneGen.Kernels.Pool2DKernel<{shape}>.MaxBackward({c.In(node)}, {c.OutGrad(node)}, {dx}, batch);",
            LayerKind.AvgPool2D => $"global::PruneGen.Kernels.Pool2DKernel<{shape}>.AvgBackward({c.OutGrad(node)}, {dx}, batch);",
            _ => $"global::PruneGen.Kernels.GlobalAvgPoolKernel<{shape}>.Backward({c.OutGrad(node)}, {dx}, batch);",
        });
    }
}
