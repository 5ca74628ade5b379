using System.Collections.Generic;
using System.Linq;
using PruneGen.Generators.Emit.Cpu;
using PruneGen.Model;

namespace PruneGen.Generators.Emit;

/// <summary>
/// The static memory plan of one mode. Per batch the workspace holds, in order: every layer's output
/// that exists in the mode ([layer: batch × size]...; not an alias, and at inference not a layer inside a
/// fused store, which writes only its last layer's output), in training also every such layer's gradient and
/// every dropout mask; then, independent of the batch, BatchNorm's saved statistics (training) and the
/// im2col scratch. All offsets are constants; only the batch multiplies them.
/// </summary>
internal sealed class MemoryPlan
{
    /// <summary>The plan of the pass <paramref name="c"/> writes (inference or training).</summary>
    public MemoryPlan(NetworkGraph g, ForwardContext c)
    {
        if (c.Training)
        {
            // A copy of the input: the first layers need it again for their weight gradients.
            PerSample = g.InputShape.Size;
        }

        foreach (var l in g.Layers.Where(l => !c.HasNoMemory(l)))
        {
            Activations[l.Index] = PerSample;
            PerSample += l.OutputShape.Size;
        }

        if (c.Training)
        {
            foreach (var l in g.Layers.Where(l => !c.IsAlias(l)))
            {
                Gradients[l.Index] = PerSample;
                PerSample += l.OutputShape.Size;
            }

            foreach (var l in g.Layers.Where(l => l.Kind == LayerKind.Dropout))
            {
                Masks[l.Index] = PerSample;
                PerSample += l.OutputShape.Size;
            }

            foreach (var l in g.Layers.Where(l => l.Kind == LayerKind.BatchNorm))
            {
                Statistics[l.Index] = Fixed;
                Fixed += 2 * l.OutputShape.Channels;
            }
        }

        Scratch = g.Layers.Select(l => c.Training ? l.BackwardScratchLength : l.Im2ColLength).DefaultIfEmpty(0).Max();
    }

    public Dictionary<int, int> Activations { get; } = new();

    public Dictionary<int, int> Gradients { get; } = new();

    public Dictionary<int, int> Masks { get; } = new();

    public Dictionary<int, int> Statistics { get; } = new();

    public int PerSample { get; }

    public int Fixed { get; }

    public int Scratch { get; }

    /// <summary>The plan of the generated <c>Forward</c>.</summary>
    public static MemoryPlan Inference(NetworkGraph g) => new(g, new ForwardContext(g, training: false));

    /// <summary>
    /// Bytes of workspace the pass allocates for <paramref name="batch"/> samples with <paramref name="threads"/>
    /// kernel threads: what the generated code computes as its <c>needed</c> floats, times four.
    /// </summary>
    public long Bytes(int batch, int threads) => sizeof(float) * (((long)batch * PerSample) + Fixed + ((long)threads * Scratch));
}
