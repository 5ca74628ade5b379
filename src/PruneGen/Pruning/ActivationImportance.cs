using System;
using System.Collections.Generic;
using System.Linq;
using PruneGen.Model;

namespace PruneGen.Pruning;

/// <summary>
/// Activation statistics of each channel after its activation function, over calibration data:
/// the mean value, or 1 − APoZ (the fraction of positions where it is non-zero). A group is scored
/// from every activation layer (ReLU, LeakyReLU, sigmoid, tanh) that carries its channels; groups
/// without one are not scored. Statistics come from training-mode passes (BatchNorm uses batch statistics).
/// </summary>
internal sealed class ActivationImportance(bool apoz) : Importance
{
    public override string Name => apoz ? "apoz" : "activation";

    public override bool IsDataDriven => true;

    public override float[]?[] Score(ImportanceContext context)
    {
        var graph = context.Network.Graph;
        var groups = context.Groups;
        var sites = groups.Select(g => g.Prunable
            ? g.Outputs.Where(o => graph.Find(o.Layer)?.Kind is LayerKind.ReLU or LayerKind.LeakyReLU or LayerKind.Sigmoid or LayerKind.Tanh)
                .Select(o => (Output: o, Layer: graph.Find(o.Layer)!, Sum: new double[g.Channels], Count: new long[g.Channels])).ToArray()
            : []).ToArray();
        context.ForEachCalibrationBatch(Name, (network, _, count, _) =>
        {
            foreach (var group in sites)
            {
                foreach (var (output, layer, sum, n) in group)
                {
                    var data = network.TrainingActivation(layer.Index);
                    var shape = layer.OutputShape;
                    var unit = shape.Flat ? 1 : shape.Spatial;
                    for (var b = 0; b < count; b++)
                    {
                        var sample = data.Slice(b * shape.Size, shape.Size);
                        for (var c = 0; c < sum.Length; c++)
                        {
                            for (var s = 0; s < output.Width; s++)
                            {
                                var values = sample.Slice((output.Offset + (c * output.Width) + s) * unit, unit);
                                foreach (var v in values)
                                {
                                    sum[c] += apoz ? (v != 0 ? 1 : 0) : v;
                                }

                                n[c] += unit;
                            }
                        }
                    }
                }
            }
        });

        return groups.Select((g, k) => g.Prunable && sites[k].Length > 0
            ? context.Reduce(sites[k].Select(s => s.Sum.Select((v, c) => v / Math.Max(s.Count[c], 1)).ToArray()).ToList(), g.Channels)
            : null).ToArray();
    }
}
