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

    // Differentiates the element-wise function from its output (ReLU, sigmoid, tanh, softmax) or input (leaky ReLU).
    public void EmitBackward(CodeWriter w, LayerNode node, ForwardContext c)
    {
        var dx = c.InGrad(node);
        if (dx is null)
        {
            w.Line("// (reads the network input, whose gradient is not needed)");
            return;
        }

        var k = "global::PruneGen.Kernels.ElementwiseKernels";
        var (x, y, dy) = (c.In(node), c.Out(node), c.OutGrad(node));
        w.Line(node.Kind switch
        {
            LayerKind.ReLU => $"{k}.ReLUBackward({y}, {dy}, {dx});",
            LayerKind.LeakyReLU => $"{k}.LeakyReLUBackward({x}.Slice(0, {y}.Length), {dy}, {dx}, {NetworkGenerator.Parser.Format(node.Alpha)}f);",
            LayerKind.Sigmoid => $"{k}.SigmoidBackward({y}, {dy}, {dx});",
            LayerKind.Tanh => $"{k}.TanhBackward({y}, {dy}, {dx});",
            _ => $"{k}.SoftmaxBackward({y}, {dy}, {dx}, {node.OutputShape.Size}, batch);",
        });
    }
}
