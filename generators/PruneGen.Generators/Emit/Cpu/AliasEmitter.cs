using PruneGen.Model;

namespace PruneGen.Generators.Emit.Cpu;

/// <summary>
/// Flatten and dropout compute nothing at inference: their output is their input's memory.
/// In training, dropout draws a mask (inverted dropout) and has memory of its own.
/// </summary>
internal sealed class AliasEmitter : ICpuLayerEmitter
{
    public void EmitShape(CodeWriter w, LayerNode node)
    {
    }

    public void EmitForward(CodeWriter w, LayerNode node, ForwardContext c)
    {
        if (!c.IsAlias(node))
        {
            w.Line($"global::PruneGen.Kernels.ElementwiseKernels.DropoutForward({c.In(node)}.Slice(0, {c.Out(node)}.Length), {c.Out(node)}, {ForwardContext.Mask(node)}, {NetworkGenerator.Parser.Format(node.Alpha)}f, ref _dropoutState);");
        }

        // Otherwise the span was bound to the input's memory when it was declared; nothing to compute.
    }

    // Differentiates y = x·mask (training dropout); flatten shares its input's gradient memory.
    public void EmitBackward(CodeWriter w, LayerNode node, ForwardContext c)
    {
        var dx = c.InGrad(node);
        if (c.IsAlias(node) || dx is null)
        {
            w.Line("// (shares its input's gradient)");
            return;
        }

        w.Line($"global::PruneGen.Kernels.ElementwiseKernels.DropoutBackward({c.OutGrad(node)}, {ForwardContext.Mask(node)}, {dx});");
    }
}
