using System.Collections.Generic;

namespace PruneGen.Model.Pruning;

/// <summary>A residual block of a network (from a <c>[ResidualBlock]</c> declaration) as depth pruning sees it.</summary>
/// <param name="Name">The block's name, e.g. <c>s2b2</c>.</param>
/// <param name="InputLayer">Index of the layer the block reads (−1: the network input).</param>
/// <param name="OutputLayer">Index of the block's last layer (the ReLU after the addition).</param>
/// <param name="ResidualNorm">The BatchNorm ending the residual branch (<c>{block}.bn2</c>); zeroing its γ and β silences the branch.</param>
/// <param name="UnremovableReason">Why the block cannot be removed, or null when it can.</param>
public sealed record ResidualBlockInfo(string Name, int InputLayer, int OutputLayer, string ResidualNorm, string? UnremovableReason)
{
    /// <summary>Whether removing the block keeps every shape valid and its masked form exact.</summary>
    public bool Removable => UnremovableReason is null;
}

/// <summary>Finds the residual blocks of a graph and whether each can be removed whole.</summary>
public static class ResidualBlocks
{
    /// <summary>
    /// The blocks of <paramref name="graph"/> in layer order. A block can be removed when its shortcut is
    /// the identity (no projection: same shape in and out) and its input is a ReLU output: then
    /// <c>relu(x + 0) = x</c>, so silencing the residual branch is exactly the network without the block.
    /// </summary>
    public static EquatableArray<ResidualBlockInfo> Analyze(NetworkGraph graph)
    {
        var result = new List<ResidualBlockInfo>();
        var seen = new HashSet<string>();
        foreach (var layer in graph.Layers)
        {
            if (layer.Block is not { } b || !seen.Add(b))
            {
                continue;
            }

            var conv1 = graph.Find(b + ".conv1");
            var output = graph.Find(b + ".relu");
            if (conv1 is null || output is null)
            {
                continue;
            }

            var input = conv1.Inputs.Count > 0 ? conv1.Inputs[0] : -1;
            string? reason = null;
            if (graph.Find(b + ".proj") is not null)
            {
                reason = $"block '{b}' changes the shape ({graph.ShapeOf(input)} → {output.OutputShape}) through a projection shortcut";
            }
            else if (input < 0 || graph.Layers[input].Kind != LayerKind.ReLU)
            {
                reason = $"block '{b}' reads '{(input < 0 ? NetworkBuilder.InputName : graph.Layers[input].Name)}', which is not a ReLU output, so relu(x) ≠ x and the block is not the identity when silenced";
            }

            result.Add(new ResidualBlockInfo(b, input, output.Index, b + ".bn2", reason));
        }

        return new EquatableArray<ResidualBlockInfo>(result.ToArray());
    }
}
