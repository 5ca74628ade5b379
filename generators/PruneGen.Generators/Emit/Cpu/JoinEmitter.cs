using PruneGen.Model;

namespace PruneGen.Generators.Emit.Cpu;

/// <summary>Residual adds and channel concatenations.</summary>
internal sealed class JoinEmitter : ICpuLayerEmitter
{
    public void EmitShape(CodeWriter w, LayerNode node)
    {
    }

    public void EmitForward(CodeWriter w, LayerNode node, ForwardContext c)
    {
        var k = "global::PruneGen.Kernels.ElementwiseKernels";
        var y = c.Out(node);
        if (node.Kind == LayerKind.Add)
        {
            var size = node.OutputShape.Size;
            w.Line($"{k}.Add({c.In(node, 0)}.Slice(0, batch * {size}), {c.In(node, 1)}.Slice(0, batch * {size}), {y});");
            for (var i = 2; i < node.Inputs.Count; i++)
            {
                w.Line($"{k}.Add({y}, {c.In(node, i)}.Slice(0, batch * {size}), {y});");
            }

            return;
        }

        var offset = 0;
        for (var i = 0; i < node.Inputs.Count; i++)
        {
            var part = c.Graph.ShapeOf(node.Inputs[i]).Size;
            w.Line($"{k}.ConcatInto({c.In(node, i)}, {part}, {y}, {node.OutputShape.Size}, {offset}, batch);");
            offset += part;
        }
    }

    // Differentiates the join: an add passes dy to every input, a concat hands each input its channel slice.
    public void EmitBackward(CodeWriter w, LayerNode node, ForwardContext c)
    {
        var k = "global::PruneGen.Kernels.ElementwiseKernels";
        var dy = c.OutGrad(node);
        var offset = 0;
        for (var i = 0; i < node.Inputs.Count; i++)
        {
            var dx = c.InGrad(node, i);
            var part = c.Graph.ShapeOf(node.Inputs[i]).Size;
            if (dx is not null)
            {
                w.Line(node.Kind == LayerKind.Add
                    ? $"{k}.Accumulate({dy}, {dx});"
                    : $"{k}.ConcatBackward({dy}, {node.OutputShape.Size}, {offset}, {dx}, {part}, batch);");
            }

            offset += part;
        }
    }
}
