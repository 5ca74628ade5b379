using System.Collections.Generic;

namespace PruneGen.Model.Pruning;

/// <summary>
/// A plain (non-residual) convolution or dense layer as depth pruning sees it: the layer and the
/// element-wise layers that follow it alone (its BatchNorm, activation, dropout), removed together.
/// </summary>
/// <param name="Name">The convolution or dense layer's name (what a plan's <c>removedLayers</c> lists).</param>
/// <param name="Members">The layers removed with it, in order: the layer itself, then its chain (e.g. <c>conv2, bn2, relu2</c>).</param>
/// <param name="InputLayer">Index of the layer it reads (−1: the network input).</param>
/// <param name="OutputLayer">Index of the chain's last layer; once removed, its readers read <paramref name="InputLayer"/>.</param>
/// <param name="UnremovableReason">Why the layer cannot be removed, or null when it can.</param>
public sealed record RemovableLayerInfo(string Name, EquatableArray<string> Members, int InputLayer, int OutputLayer, string? UnremovableReason)
{
    /// <summary>Whether removing the layer keeps every shape valid and its masked form exact.</summary>
    public bool Removable => UnremovableReason is null;
}

/// <summary>Finds the convolution and dense layers outside residual blocks that can be removed whole.</summary>
public static class RemovableLayers
{
    /// <summary>
    /// Every Conv2D and Dense layer outside a residual block, in layer order. A layer can be removed when
    /// (1) its chain (the layer, then each single reader that is a BatchNorm, ReLU, LeakyReLU or Dropout)
    /// maps a tensor to one of the same shape — a stride-1 convolution with <c>Cin = Cout</c> and "same"
    /// padding (kernel = 2·padding + 1), ungrouped, or a dense layer with as many units as inputs — and
    /// (2) its masked form is exact: with an identity kernel (or matrix), a zero bias and an identity
    /// BatchNorm the chain computes <c>relu(x)</c>, which is <c>x</c> because its input is non-negative
    /// (a ReLU output, possibly pooled). Removing it then gives exactly the network the mask evaluates.
    /// </summary>
    public static EquatableArray<RemovableLayerInfo> Analyze(NetworkGraph graph)
    {
        var result = new List<RemovableLayerInfo>();
        foreach (var layer in graph.Layers)
        {
            if (layer.Kind is not (LayerKind.Conv2D or LayerKind.Dense) || layer.Block is not null)
            {
                continue;
            }

            var members = new List<string> { layer.Name };
            var end = layer;
            var activation = false;
            while (SingleReader(graph, end.Index) is { } next
                && next.Inputs.Count == 1
                && next.Block is null
                && next.Kind is LayerKind.BatchNorm or LayerKind.ReLU or LayerKind.LeakyReLU or LayerKind.Dropout)
            {
                activation |= next.Kind is LayerKind.ReLU or LayerKind.LeakyReLU;
                members.Add(next.Name);
                end = next;
            }

            var input = layer.Inputs.Count > 0 ? layer.Inputs[0] : -1;
            var inShape = graph.ShapeOf(input);
            string? reason = null;
            if (!Equals(inShape, end.OutputShape))
            {
                reason = $"'{layer.Name}' changes the shape ({inShape} → {end.OutputShape}), so its readers could not read its input instead";
            }
            else if (layer.Kind == LayerKind.Conv2D && (layer.Groups != 1 || layer.Stride != 1 || layer.Kernel != (2 * layer.Padding) + 1))
            {
                reason = $"convolution '{layer.Name}' is not an ungrouped stride-1 'same' convolution, so no identity kernel reproduces its input";
            }
            else if (activation && !NonNegative(graph, input))
            {
                reason = $"'{layer.Name}' reads '{(input < 0 ? NetworkBuilder.InputName : graph.Layers[input].Name)}', which is not a ReLU output, so its activation is not the identity on its input and the masked layer would not equal the removed one";
            }

            result.Add(new RemovableLayerInfo(layer.Name, new EquatableArray<string>(members.ToArray()), input, end.Index, reason));
        }

        return new EquatableArray<RemovableLayerInfo>(result.ToArray());
    }

    /// <summary>The only layer reading layer <paramref name="index"/>, or null when it has none or several.</summary>
    private static LayerNode? SingleReader(NetworkGraph graph, int index)
    {
        LayerNode? reader = null;
        foreach (var c in graph.ConsumersOf(index))
        {
            if (reader is not null)
            {
                return null;
            }

            reader = graph.Layers[c];
        }

        return reader;
    }

    /// <summary>Whether layer <paramref name="index"/>'s output is never negative (a ReLU output, or pooled / flattened / dropped-out from one).</summary>
    private static bool NonNegative(NetworkGraph graph, int index)
    {
        if (index < 0)
        {
            return false;
        }

        var layer = graph.Layers[index];
        switch (layer.Kind)
        {
            case LayerKind.ReLU:
                return true;
            case LayerKind.MaxPool2D or LayerKind.AvgPool2D or LayerKind.GlobalAvgPool or LayerKind.Flatten or LayerKind.Dropout:
                return NonNegative(graph, layer.Inputs[0]);
            case LayerKind.Concat:
                foreach (var i in layer.Inputs)
                {
                    if (!NonNegative(graph, i))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return false;
        }
    }
}
