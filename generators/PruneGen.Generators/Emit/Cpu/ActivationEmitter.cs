using PruneGen.Model;

namespace PruneGen.Generators.Emit.Cpu;

/// <summary>Element-wise activations and softmax: no shape struct, the length is batch × size.</summary>
internal sealed class ActivationEmitter : ICpuLayerEmitter
{
    public void EmitShape(CodeWriter w, LayerNode node)
    {
    }

    public void EmitForward(CodeWriter w, LayerNode node, ForwardContext c)
    {
        var k = "global::PruneGen.Kernels.ElementwiseKernels";
        var size = node.OutputShape.Size;
        var (x, y) = (c.In(node), c.Out(node));
        w.Line(node.Kind switch
        {
            LayerKind.ReLU => $"{k}.ReLU({x}.Slice(0, batch * {size}), {y});",
            LayerKind.LeakyReLU => $"{k}.LeakyReLU({x}.Slice(0, batch * {size}), {y}, {NetworkGenerator.Parser.Format(node.Alpha)}f);",
            LayerKind.Sigmoid => $"{k}.Sigmoid({x}.Slice(0, batch * {size}), {y});",
            LayerKind.Tanh => $"{k}.Tanh({x}.Slice(0, batch * {size}), {y});",
            _ => $"{k}.Softmax({x}, {y}, {size}, batch);",
        });
    }
}
