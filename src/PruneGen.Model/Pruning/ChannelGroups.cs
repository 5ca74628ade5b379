using System;
using System.Collections.Generic;
using System.Linq;

namespace PruneGen.Model.Pruning;

/// <summary>
/// One place a channel of a group lives in a parameter tensor: channel <c>c</c> of the group owns the
/// indices <c>[Offset + c·Width, Offset + (c+1)·Width)</c> along <see cref="Axis"/> of <see cref="Parameter"/>.
/// </summary>
/// <param name="Layer">The layer owning the parameter.</param>
/// <param name="Parameter">Full parameter name, e.g. <c>conv2.weight</c>.</param>
/// <param name="Axis">0: the layer's output channels (filters, neurons, BatchNorm features); 1: its input channels.</param>
/// <param name="Offset">First index of the group's channel 0 along the axis (non-zero after a concatenation).</param>
/// <param name="Width">Indices per channel: 1, or height × width where a flattened feature map feeds a dense layer.</param>
public sealed record ChannelSlice(string Layer, string Parameter, int Axis, int Offset, int Width);

/// <summary>
/// A set of channels that must be pruned together: the output channels of one or more producers
/// (convolution filters, dense neurons) joined by residual additions, together with every tensor slice
/// that reads or normalizes them (BatchNorm features, depthwise filters, consumers' input columns,
/// flattened blocks of dense inputs). Removing channel <c>c</c> of the group removes index <c>c</c> of every slice.
/// </summary>
/// <param name="Name">The group's name: its first producer in layer order (e.g. <c>conv1</c>, <c>stem</c>).</param>
/// <param name="Channels">Channels in the group.</param>
/// <param name="Producers">Convolution and dense layers whose outputs are the group's channels.</param>
/// <param name="Layers">Every layer whose output carries the group's channels.</param>
/// <param name="Outputs">
/// Where the channels sit in those layers' outputs: <see cref="ChannelSlice.Parameter"/> is empty, and channel
/// <c>c</c> owns the output channels (spatial tensors) or features (flat tensors) <c>[Offset + c·Width, Offset + (c+1)·Width)</c>.
/// </param>
/// <param name="Slices">Every parameter slice owned by a channel of the group.</param>
/// <param name="UnprunableReason">Why the group cannot be pruned safely, or null when it can.</param>
public sealed record ChannelGroup(
    string Name,
    int Channels,
    EquatableArray<string> Producers,
    EquatableArray<string> Layers,
    EquatableArray<ChannelSlice> Outputs,
    EquatableArray<ChannelSlice> Slices,
    string? UnprunableReason)
{
    /// <summary>Whether channels of this group may be removed.</summary>
    public bool Prunable => UnprunableReason is null;
}

/// <summary>
/// Computes the coupled channel groups of a network from its graph metadata alone (kinds, edges,
/// shapes) — never by tracing a sample through it. Every tensor's channel axis is described as a
/// list of segments of "channel spaces"; producers open new spaces, pass-through layers keep them,
/// flatten widens them, concatenation appends them and addition unifies them.
/// </summary>
public static class ChannelGroups
{
    /// <summary>The groups of <paramref name="graph"/>, in the order of their first producer; the network input's group (never prunable) comes first.</summary>
    public static EquatableArray<ChannelGroup> Analyze(NetworkGraph graph)
    {
        return new EquatableArray<ChannelGroup>(new Analysis(graph).Run());
    }

    /// <summary>The group named <paramref name="name"/>, or null.</summary>
    public static ChannelGroup? Find(this EquatableArray<ChannelGroup> groups, string name)
    {
        foreach (var g in groups)
        {
            if (g.Name == name)
            {
                return g;
            }
        }

        return null;
    }

    /// <summary>A run of channels of one space inside a tensor's channel (or feature) axis.</summary>
    private readonly struct Segment
    {
        public Segment(int space, int count, int width)
        {
            Space = space;
            Count = count;
            Width = width;
        }

        public int Space { get; }

        public int Count { get; }

        public int Width { get; }
    }

    private sealed class Analysis
    {
        private readonly NetworkGraph _graph;
        private readonly List<int> _parent = new();
        private readonly List<int> _size = new();
        private readonly List<string?> _reason = new();
        private readonly List<int> _producerLayer = new();
        private readonly List<(int Space, ChannelSlice Slice)> _slices = new();
        private readonly List<Segment[]> _maps = new();
        private readonly Segment[] _inputMap;

        public Analysis(NetworkGraph graph)
        {
            _graph = graph;
            var input = NewSpace(graph.InputShape.Channels, -1, "it is the network input, whose channels are fixed by the data");
            _inputMap = new[] { new Segment(input, graph.InputShape.Channels, 1) };
        }

        public ChannelGroup[] Run()
        {
            foreach (var layer in _graph.Layers)
            {
                _maps.Add(Visit(layer));
            }

            foreach (var s in _maps[_maps.Count - 1])
            {
                MarkUnprunable(s.Space, $"it is the output of the network ('{_graph.Output.Name}'), whose width is fixed");
            }

            return Collect();
        }

        private Segment[] MapOf(int layer) => layer < 0 ? _inputMap : _maps[layer];

        private int NewSpace(int size, int producer, string? reason = null)
        {
            _parent.Add(_parent.Count);
            _size.Add(size);
            _reason.Add(reason);
            _producerLayer.Add(producer);
            return _parent.Count - 1;
        }

        private int Root(int space)
        {
            while (_parent[space] != space)
            {
                _parent[space] = _parent[_parent[space]];
                space = _parent[space];
            }

            return space;
        }

        private void Union(int a, int b)
        {
            a = Root(a);
            b = Root(b);
            if (a == b)
            {
                return;
            }

            // Keep the older space as the root so a group is named after its first producer.
            if (b < a)
            {
                (a, b) = (b, a);
            }

            _parent[b] = a;
            _reason[a] ??= _reason[b];
        }

        private void MarkUnprunable(int space, string reason)
        {
            var r = Root(space);
            _reason[r] ??= reason;
        }

        private void AddSlices(LayerNode layer, string parameterSuffix, int axis, Segment[] map)
        {
            var offset = 0;
            foreach (var s in map)
            {
                _slices.Add((s.Space, new ChannelSlice(layer.Name, layer.Name + "." + parameterSuffix, axis, offset, s.Width)));
                offset += s.Count * s.Width;
            }
        }

        private bool HasParameter(LayerNode layer, string suffix) => layer.Parameters.Any(p => p.Name == layer.Name + "." + suffix);

        private Segment[] Visit(LayerNode layer)
        {
            var input = MapOf(layer.Inputs.Count > 0 ? layer.Inputs[0] : -1);
            switch (layer.Kind)
            {
                case LayerKind.Dense:
                    {
                        var space = NewSpace(layer.OutputShape.Channels, layer.Index);
                        var output = new[] { new Segment(space, layer.OutputShape.Channels, 1) };
                        AddSlices(layer, "weight", 1, input);
                        AddSlices(layer, "weight", 0, output);
                        if (layer.Bias)
                        {
                            AddSlices(layer, "bias", 0, output);
                        }

                        return output;
                    }

                case LayerKind.Conv2D:
                    {
                        var inChannels = layer.InputShape.Channels;
                        var outChannels = layer.OutputShape.Channels;
                        if (layer.Groups > 1 && layer.Groups == inChannels && outChannels == inChannels)
                        {
                            // Depthwise: output channel c is computed from input channel c alone, so the two couple
                            // and the filter of channel c goes with them.
                            AddSlices(layer, "weight", 0, input);
                            if (layer.Bias)
                            {
                                AddSlices(layer, "bias", 0, input);
                            }

                            return input;
                        }

                        var space = NewSpace(outChannels, layer.Index);
                        var output = new[] { new Segment(space, outChannels, 1) };
                        if (layer.Groups > 1)
                        {
                            var reason = $"grouped convolution '{layer.Name}' ({layer.Groups} groups) would need whole groups removed, which PruneGen does not support";
                            MarkUnprunable(space, reason);
                            foreach (var s in input)
                            {
                                MarkUnprunable(s.Space, reason);
                            }
                        }
                        else
                        {
                            AddSlices(layer, "weight", 1, input);
                        }

                        AddSlices(layer, "weight", 0, output);
                        if (layer.Bias)
                        {
                            AddSlices(layer, "bias", 0, output);
                        }

                        return output;
                    }

                case LayerKind.BatchNorm:
                    foreach (var suffix in new[] { "weight", "bias", "running_mean", "running_var" })
                    {
                        if (HasParameter(layer, suffix))
                        {
                            AddSlices(layer, suffix, 0, input);
                        }
                    }

                    return input;

                case LayerKind.Flatten:
                    {
                        var spatial = layer.InputShape.Flat ? 1 : layer.InputShape.Spatial;
                        return input.Select(s => new Segment(s.Space, s.Count, s.Width * spatial)).ToArray();
                    }

                case LayerKind.GlobalAvgPool:
                    return input.Select(s => new Segment(s.Space, s.Count, 1)).ToArray();

                case LayerKind.Softmax:
                    foreach (var s in input)
                    {
                        MarkUnprunable(s.Space, $"softmax '{layer.Name}' normalizes across all of its features");
                    }

                    return input;

                case LayerKind.Add:
                    {
                        var first = input;
                        for (var i = 1; i < layer.Inputs.Count; i++)
                        {
                            var other = MapOf(layer.Inputs[i]);
                            if (other.Length == first.Length && Enumerable.Range(0, first.Length).All(k => other[k].Count == first[k].Count && other[k].Width == first[k].Width))
                            {
                                for (var k = 0; k < first.Length; k++)
                                {
                                    Union(first[k].Space, other[k].Space);
                                }
                            }
                            else
                            {
                                // Shapes match (the builder checked), but the channels come from differently concatenated sources.
                                var reason = $"add '{layer.Name}' joins tensors whose channels are concatenated differently";
                                foreach (var s in first.Concat(other))
                                {
                                    MarkUnprunable(s.Space, reason);
                                }
                            }
                        }

                        return first;
                    }

                case LayerKind.Concat:
                    return layer.Inputs.SelectMany(MapOf).ToArray();

                default:
                    // Element-wise activations, dropout and pooling keep every channel where it is.
                    return input;
            }
        }

        private ChannelGroup[] Collect()
        {
            var roots = new SortedSet<int>();
            for (var s = 0; s < _parent.Count; s++)
            {
                roots.Add(Root(s));
            }

            var groups = new List<ChannelGroup>();
            foreach (var root in roots)
            {
                var producers = new List<string>();
                for (var s = 0; s < _parent.Count; s++)
                {
                    if (Root(s) == root && _producerLayer[s] >= 0)
                    {
                        producers.Add(_graph.Layers[_producerLayer[s]].Name);
                    }
                }

                var layers = new List<string>();
                var outputs = new List<ChannelSlice>();
                for (var l = 0; l < _maps.Count; l++)
                {
                    var name = _graph.Layers[l].Name;
                    var offset = 0;
                    foreach (var seg in _maps[l])
                    {
                        if (Root(seg.Space) == root)
                        {
                            outputs.Add(new ChannelSlice(name, string.Empty, 0, offset, seg.Width));
                            if (layers.Count == 0 || layers[layers.Count - 1] != name)
                            {
                                layers.Add(name);
                            }
                        }

                        offset += seg.Count * seg.Width;
                    }
                }

                var slices = _slices.Where(x => Root(x.Space) == root).Select(x => x.Slice).ToArray();
                groups.Add(new ChannelGroup(
                    producers.Count > 0 ? producers[0] : NetworkBuilder.InputName,
                    _size[root],
                    new EquatableArray<string>(producers.ToArray()),
                    new EquatableArray<string>(layers.ToArray()),
                    new EquatableArray<ChannelSlice>(outputs.ToArray()),
                    new EquatableArray<ChannelSlice>(slices),
                    _reason[root]));
            }

            return groups.ToArray();
        }
    }
}
