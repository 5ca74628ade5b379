using System;
using System.Collections.Generic;
using System.Linq;
using PruneGen.Data;
using PruneGen.Model;
using PruneGen.Model.Pruning;
using PruneGen.Training;

namespace PruneGen.Pruning;

/// <summary>How a criterion combines the scores a channel gets from each tensor of its group.</summary>
public enum GroupReduction
{
    /// <summary>Average over the group's tensors (Torch-Pruning's default).</summary>
    Mean,

    /// <summary>Sum over the group's tensors.</summary>
    Sum,

    /// <summary>Largest over the group's tensors.</summary>
    Max,
}

/// <summary>How scores are scaled within each group before groups are ranked against each other.</summary>
public enum ScoreNormalization
{
    /// <summary>Raw scores (groups with larger weights win a global ranking).</summary>
    None,

    /// <summary>Divided by the group's mean score (the default: comparable across layers of different scale).</summary>
    Mean,

    /// <summary>Divided by the group's largest score.</summary>
    Max,

    /// <summary>Divided by the group's score sum.</summary>
    Sum,
}

/// <summary>
/// What an importance criterion may read: the network, its channel groups, and calibration data for
/// the data-driven criteria (Taylor, activations). Scoring never changes the network: running
/// statistics and gradients touched by calibration passes are restored.
/// </summary>
public sealed class ImportanceContext
{
    /// <summary>Creates a context for <paramref name="network"/>.</summary>
    /// <param name="network">The network to score.</param>
    /// <param name="calibration">Data for the data-driven criteria (the first <paramref name="calibrationBatches"/> batches are used, unshuffled).</param>
    /// <param name="calibrationBatches">Number of calibration batches.</param>
    /// <param name="batchSize">Calibration batch size.</param>
    /// <param name="reduction">How per-tensor scores combine within a group.</param>
    /// <param name="seed">Seed of the random criterion.</param>
    /// <param name="removedLayers">
    /// Plain layers a plan will remove: the groups scored are those of the network without them
    /// (<see cref="PlanValidator.GroupGraph"/>), read from <paramref name="network"/>'s tensors by name.
    /// </param>
    public ImportanceContext(INetwork network, Dataset? calibration = null, int calibrationBatches = 8, int batchSize = 64, GroupReduction reduction = GroupReduction.Mean, ulong seed = 1, IReadOnlyList<string>? removedLayers = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentOutOfRangeException.ThrowIfLessThan(calibrationBatches, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (!network.Graph.Overrides.IsEmpty)
        {
            throw new ArgumentException(Allocator.PrunedBaseMessage($"'{network.GetType().Name}'", network.Graph), nameof(network));
        }

        Network = network;
        Groups = ChannelGroups.Analyze(PlanValidator.GroupGraph(network.Graph, removedLayers ?? []));
        Calibration = calibration;
        CalibrationBatches = calibrationBatches;
        BatchSize = batchSize;
        Reduction = reduction;
        Seed = seed;
    }

    /// <summary>The network being scored.</summary>
    public INetwork Network { get; }

    /// <summary>Its channel groups (scores are returned in this order).</summary>
    public EquatableArray<ChannelGroup> Groups { get; }

    /// <summary>Calibration data, or null.</summary>
    public Dataset? Calibration { get; }

    /// <summary>Calibration batches to use.</summary>
    public int CalibrationBatches { get; }

    /// <summary>Calibration batch size.</summary>
    public int BatchSize { get; }

    /// <summary>How per-tensor scores combine.</summary>
    public GroupReduction Reduction { get; }

    /// <summary>Seed for the random criterion.</summary>
    public ulong Seed { get; }

    /// <summary>The network as a trainable one, or an exception naming the criterion that needs it.</summary>
    public ITrainableNetwork Trainable(string criterion) => Network as ITrainableNetwork
        ?? throw new InvalidOperationException($"The {criterion} criterion runs training-mode passes, but '{Network.Graph.Name}' is not an ITrainableNetwork.");

    /// <summary>Calibration data, or an exception naming the criterion that needs it.</summary>
    public Dataset RequireCalibration(string criterion) => Calibration
        ?? throw new InvalidOperationException($"The {criterion} criterion is data-driven: pass calibration data (e.g. a slice of the training set) to the ImportanceContext.");

    /// <summary>
    /// Runs <paramref name="perBatch"/> on each calibration batch after a training-mode forward pass
    /// (images, labels, count, the output), then restores the running statistics and clears gradients,
    /// so scoring leaves the network exactly as it was.
    /// </summary>
    public void ForEachCalibrationBatch(string criterion, Action<ITrainableNetwork, int[], int, ReadOnlySpan<float>> perBatch)
    {
        ArgumentNullException.ThrowIfNull(perBatch);
        var network = Trainable(criterion);
        var data = RequireCalibration(criterion);
        var saved = network.Parameters.Where(p => !p.Spec.Trainable).Select(p => (p, (float[])p.Data.Clone())).ToArray();
        var dropout = network.DropoutState;
        try
        {
            // Calibration passes draw dropout masks; seed them from the context so a plan does not depend on
            // whatever the network did before it was scored.
            network.DropoutState = SplitMix64.Derive(Seed, 0, 0x43414C4942UL);
            var iterator = new BatchIterator(data, BatchSize, BatchIteratorOptions.Evaluation);
            iterator.StartEpoch(0);
            var images = iterator.CreateImageBuffer();
            var labels = iterator.CreateLabelBuffer();
            int count;
            var batches = 0;
            while (batches < CalibrationBatches && (count = iterator.Next(images, labels)) > 0)
            {
                var output = network.TrainForward(images.AsSpan(0, count * network.InputSize), count);
                perBatch(network, labels, count, output);
                batches++;
            }
        }
        finally
        {
            foreach (var (p, data0) in saved)
            {
                data0.CopyTo(p.Data, 0);
            }

            network.DropoutState = dropout;
            network.Parameters.ZeroGradients();
        }
    }

    /// <summary>Combines per-tensor channel scores with <see cref="Reduction"/>.</summary>
    public float[] Reduce(IReadOnlyList<double[]> perTensor, int channels)
    {
        ArgumentNullException.ThrowIfNull(perTensor);
        var result = new float[channels];
        if (perTensor.Count == 0)
        {
            return result;
        }

        for (var c = 0; c < channels; c++)
        {
            double acc = Reduction == GroupReduction.Max ? double.NegativeInfinity : 0;
            foreach (var t in perTensor)
            {
                acc = Reduction == GroupReduction.Max ? Math.Max(acc, t[c]) : acc + t[c];
            }

            result[c] = (float)(Reduction == GroupReduction.Mean ? acc / perTensor.Count : acc);
        }

        return result;
    }
}

/// <summary>
/// An importance criterion: scores every channel of every prunable group; the lowest-scoring channels
/// are removed first. Built-in criteria are the static properties; write a subclass for your own.
/// </summary>
public abstract class Importance
{
    /// <summary>L1 norm of each channel's weights (producer filters, consumer columns, BatchNorm γ), reduced over the group.</summary>
    public static Importance L1 { get; } = new MagnitudeImportance(1);

    /// <summary>L2 norm of each channel's weights, reduced over the group.</summary>
    public static Importance L2 { get; } = new MagnitudeImportance(2);

    /// <summary>|γ| of the group's BatchNorm layers (network slimming); groups without BatchNorm are not scored (kept whole).</summary>
    public static Importance BatchNormScale { get; } = new BatchNormScaleImportance();

    /// <summary>First-order Taylor expansion of the loss (Molchanov et al. 2019): (Σ w·∂L/∂w)² per channel and tensor, averaged over calibration batches.</summary>
    public static Importance Taylor { get; } = new TaylorImportance();

    /// <summary>FPGM (He et al. 2019): filters near the geometric median of their layer are redundant; score = summed distance to the other filters.</summary>
    public static Importance Fpgm { get; } = new FpgmImportance();

    /// <summary>Mean post-activation value of each channel over calibration data.</summary>
    public static Importance ActivationMean { get; } = new ActivationImportance(apoz: false);

    /// <summary>1 − APoZ (Hu et al. 2016): the fraction of non-zero post-activation values of each channel over calibration data.</summary>
    public static Importance Apoz { get; } = new ActivationImportance(apoz: true);

    /// <summary>Uniform random scores (seeded): the baseline every criterion must beat.</summary>
    public static Importance Random { get; } = new RandomImportance();

    /// <summary>Every built-in criterion.</summary>
    public static IReadOnlyList<Importance> All { get; } = [L1, L2, BatchNormScale, Taylor, Fpgm, ActivationMean, Apoz, Random];

    /// <summary>Short name used in plans, reports and the command line (e.g. <c>l1</c>, <c>taylor</c>).</summary>
    public abstract string Name { get; }

    /// <summary>Whether the criterion needs calibration data.</summary>
    public virtual bool IsDataDriven => false;

    /// <summary>The built-in criterion called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static Importance Parse(string name) => All.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown importance criterion '{name}'. Known criteria: {string.Join(", ", All.Select(c => c.Name))}.", nameof(name));

    /// <summary>
    /// Scores for each group of <see cref="ImportanceContext.Groups"/>, one per channel (higher = more
    /// important), or null for a group the criterion does not score (unprunable groups, or e.g. no BatchNorm).
    /// </summary>
    public abstract float[]?[] Score(ImportanceContext context);

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>The flat indices, in a tensor of shape <paramref name="shape"/>, of every element channel <paramref name="c"/> owns in <paramref name="slice"/>.</summary>
    protected static IEnumerable<int> Indices(ChannelSlice slice, IReadOnlyList<int> shape, int c)
    {
        ArgumentNullException.ThrowIfNull(slice);
        ArgumentNullException.ThrowIfNull(shape);
        var d0 = shape[0];
        var d1 = shape.Count > 1 ? shape[1] : 1;
        var inner = 1;
        for (var i = 2; i < shape.Count; i++)
        {
            inner *= shape[i];
        }

        for (var s = 0; s < slice.Width; s++)
        {
            var index = slice.Offset + (c * slice.Width) + s;
            if (slice.Axis == 0)
            {
                var row = d1 * inner;
                for (var k = 0; k < row; k++)
                {
                    yield return (index * row) + k;
                }
            }
            else
            {
                for (var r = 0; r < d0; r++)
                {
                    for (var k = 0; k < inner; k++)
                    {
                        yield return (((r * d1) + index) * inner) + k;
                    }
                }
            }
        }
    }

    /// <summary>Whether a slice belongs to a weight (convolution/dense weight or BatchNorm γ), not a bias or running statistic.</summary>
    protected static bool IsWeight(ChannelSlice slice) => slice?.Parameter.EndsWith(".weight", StringComparison.Ordinal) == true;
}

/// <summary>Lp norm of each channel's weights over every weight tensor of the group.</summary>
internal sealed class MagnitudeImportance(int p) : Importance
{
    public override string Name => p == 1 ? "l1" : "l2";

    public override float[]?[] Score(ImportanceContext context)
    {
        var parameters = context.Network.Parameters;
        return context.Groups.Select(g =>
        {
            if (!g.Prunable)
            {
                return null;
            }

            var perTensor = new List<double[]>();
            foreach (var slice in g.Slices.Where(IsWeight))
            {
                var t = parameters[slice.Parameter];
                var scores = new double[g.Channels];
                for (var c = 0; c < g.Channels; c++)
                {
                    double acc = 0;
                    foreach (var i in Indices(slice, t.Shape, c))
                    {
                        var v = t.Data[i];
                        acc += p == 1 ? Math.Abs(v) : (double)v * v;
                    }

                    scores[c] = p == 1 ? acc : Math.Sqrt(acc);
                }

                perTensor.Add(scores);
            }

            return context.Reduce(perTensor, g.Channels);
        }).ToArray();
    }
}

/// <summary>|γ| of the group's BatchNorm layers.</summary>
internal sealed class BatchNormScaleImportance : Importance
{
    public override string Name => "bn";

    public override float[]?[] Score(ImportanceContext context)
    {
        var graph = context.Network.Graph;
        var parameters = context.Network.Parameters;
        return context.Groups.Select(g =>
        {
            var norms = g.Slices.Where(s => IsWeight(s) && graph.Find(s.Layer)?.Kind == LayerKind.BatchNorm).ToArray();
            if (!g.Prunable || norms.Length == 0)
            {
                return null;
            }

            var perTensor = norms.Select(s =>
            {
                var gamma = parameters[s.Parameter];
                return Enumerable.Range(0, g.Channels).Select(c => Indices(s, gamma.Shape, c).Average(i => (double)Math.Abs(gamma.Data[i]))).ToArray();
            }).ToList();
            return context.Reduce(perTensor, g.Channels);
        }).ToArray();
    }
}

/// <summary>First-order Taylor importance from calibration gradients.</summary>
internal sealed class TaylorImportance : Importance
{
    public override string Name => "taylor";

    public override bool IsDataDriven => true;

    public override float[]?[] Score(ImportanceContext context)
    {
        var parameters = context.Network.Parameters;
        var groups = context.Groups;

        // Per group, per trainable slice: (Σ w·g)² summed over batches, and the element indices of each channel (computed once).
        var slices = groups.Select(g => g.Prunable
            ? g.Slices.Where(s => parameters[s.Parameter].Spec.Trainable).Select(s => (Slice: s, Indices: Enumerable.Range(0, g.Channels).Select(c => Indices(s, parameters[s.Parameter].Shape, c).ToArray()).ToArray(), Sum: new double[g.Channels])).ToArray()
            : []).ToArray();
        var batches = 0;
        float[] gradient = [];
        context.ForEachCalibrationBatch(Name, (network, labels, count, output) =>
        {
            if (gradient.Length < output.Length)
            {
                gradient = new float[output.Length];
            }

            network.Parameters.ZeroGradients();
            Losses.SoftmaxCrossEntropy(output, labels.AsSpan(0, count), network.OutputSize, gradient.AsSpan(0, output.Length));
            network.Backward(gradient.AsSpan(0, output.Length), count);
            foreach (var group in slices)
            {
                foreach (var (slice, indices, sum) in group)
                {
                    var t = parameters[slice.Parameter];
                    for (var c = 0; c < indices.Length; c++)
                    {
                        double dot = 0;
                        foreach (var i in indices[c])
                        {
                            dot += (double)t.Data[i] * t.Gradient[i];
                        }

                        sum[c] += dot * dot;
                    }
                }
            }

            batches++;
        });

        return groups.Select((g, k) => g.Prunable
            ? context.Reduce(slices[k].Select(s => s.Sum.Select(v => v / Math.Max(batches, 1)).ToArray()).ToList(), g.Channels)
            : null).ToArray();
    }
}

/// <summary>FPGM: distance of each producer filter to the others (small = near the geometric median = replaceable).</summary>
internal sealed class FpgmImportance : Importance
{
    public override string Name => "fpgm";

    public override float[]?[] Score(ImportanceContext context)
    {
        var parameters = context.Network.Parameters;
        return context.Groups.Select(g =>
        {
            if (!g.Prunable)
            {
                return null;
            }

            var perTensor = new List<double[]>();
            foreach (var slice in g.Slices.Where(s => s.Axis == 0 && IsWeight(s) && g.Producers.Contains(s.Layer)))
            {
                var t = parameters[slice.Parameter];
                var filters = Enumerable.Range(0, g.Channels).Select(c => Indices(slice, t.Shape, c).Select(i => (double)t.Data[i]).ToArray()).ToArray();
                var scores = new double[g.Channels];
                for (var a = 0; a < filters.Length; a++)
                {
                    for (var b = a + 1; b < filters.Length; b++)
                    {
                        double d = 0;
                        for (var k = 0; k < filters[a].Length; k++)
                        {
                            var x = filters[a][k] - filters[b][k];
                            d += x * x;
                        }

                        d = Math.Sqrt(d);
                        scores[a] += d;
                        scores[b] += d;
                    }
                }

                perTensor.Add(scores);
            }

            return context.Reduce(perTensor, g.Channels);
        }).ToArray();
    }
}

/// <summary>Seeded uniform random scores.</summary>
internal sealed class RandomImportance : Importance
{
    public override string Name => "random";

    public override float[]?[] Score(ImportanceContext context)
    {
        var random = new SplitMix64(SplitMix64.Derive(context.Seed, 0, 0x5052554E45UL));
        return context.Groups.Select(g =>
        {
            if (!g.Prunable)
            {
                return null;
            }

            var scores = new float[g.Channels];
            for (var c = 0; c < scores.Length; c++)
            {
                scores[c] = (random.Next() >> 40) / (float)(1 << 24);
            }

            return scores;
        }).ToArray();
    }
}
