using PruneGen.Model;

namespace PruneGen.Generators.Emit.Cpu;

/// <summary>Flatten and dropout compute nothing at inference: their output is their input's memory.</summary>
internal sealed class AliasEmitter : ICpuLayerEmitter
{
    public void EmitShape(CodeWriter w, LayerNode node)
    {
    }

    public void EmitForward(CodeWriter w, LayerNode node, ForwardContext c)
    {
        // The span was bound to the input's memory when it was declared; nothing to compute.
    }
}
