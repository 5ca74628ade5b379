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
}
