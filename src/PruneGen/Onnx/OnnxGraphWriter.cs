using System;
using System.Collections.Generic;
using System.Globalization;
using PruneGen.Model;

namespace PruneGen.Onnx;

/// <summary>
/// Translates a <see cref="NetworkGraph"/> and its parameter values into an ONNX <c>ModelProto</c>.
/// Each layer becomes one node named after the layer (two or more where ONNX needs helpers:
/// global pooling is followed by a flatten, an add of n tensors is a chain of n − 1 adds); the node
/// that produces a layer's output carries the layer's name, helpers are named <c>{layer}/{role}</c>.
/// Tensors are named after the layers that produce them, except the last, which is the graph output.
/// </summary>
internal sealed class OnnxGraphWriter
{
    private readonly NetworkGraph _graph;
    private readonly ParameterSet _parameters;
    private readonly ProtoMessage _proto = new();
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);
    private readonly string[] _tensors;

    private OnnxGraphWriter(INetwork network)
    {
        _graph = network.Graph ?? throw new ArgumentException("The network has no graph.", nameof(network));
        _parameters = network.Parameters ?? throw new ArgumentException($"Network '{_graph.Name}' has no parameter set.", nameof(network));
        if (_graph.Layers.Count == 0)
        {
            throw new ArgumentException($"Network '{_graph.Name}' has no layers; there is nothing to export.", nameof(network));
        }

        _tensors = new string[_graph.Layers.Count];
    }

    /// <summary>Builds the <c>ModelProto</c> of <paramref name="network"/>.</summary>
    public static ProtoMessage BuildModel(INetwork network)
    {
        var writer = new OnnxGraphWriter(network);
        var graph = writer.BuildGraph();
        var g = writer._graph;
        var version = typeof(OnnxExporter).Assembly.GetName().Version;
        var opset = new ProtoMessage().Int64(OnnxProto.OperatorSetId.Version, OnnxExporter.OpsetVersion);
        return new ProtoMessage()
            .Int64(OnnxProto.Model.IrVersion, OnnxExporter.IrVersion)
            .String(OnnxProto.Model.ProducerName, "PruneGen")
            .String(OnnxProto.Model.ProducerVersion, version is null ? "0.0.0" : version.ToString(3))
            .String(OnnxProto.Model.DocString, string.Create(CultureInfo.InvariantCulture,
                $"PruneGen network '{g.Name}': {g.Layers.Count} layers, {g.TotalParameters} trainable parameters, {g.TotalMacs} MACs per sample."))
            .Message(OnnxProto.Model.Graph, graph)
            .Message(OnnxProto.Model.OpsetImport, opset);
    }

    private ProtoMessage BuildGraph()
    {
        _proto.String(OnnxProto.Graph.Name, _graph.Name);
        NameTensors();
        for (var i = 0; i < _graph.Layers.Count; i++)
        {
            WriteLayer(_graph.Layers[i]);
        }

        foreach (var spec in _graph.AllParameters)
        {
            WriteInitializer(spec);
        }

        _proto.Message(OnnxProto.Graph.Input, ValueInfo(OnnxExporter.InputName, _graph.InputShape));
        _proto.Message(OnnxProto.Graph.Output, ValueInfo(OnnxExporter.OutputName, _graph.OutputShape));
        return _proto;
    }

    /// <summary>
    /// Reserves the graph input and output and every parameter name, then gives each layer's output
    /// tensor the layer's name (made unique with a <c>/out</c> suffix in the rare case it collides).
    /// </summary>
    private void NameTensors()
    {
        _taken.Add(OnnxExporter.InputName);
        _taken.Add(OnnxExporter.OutputName);
        foreach (var spec in _graph.AllParameters)
        {
            if (!_taken.Add(spec.Name))
            {
                throw new InvalidOperationException($"Network '{_graph.Name}' has two tensors named '{spec.Name}'; ONNX needs unique initializer names.");
            }
        }

        var last = _graph.Layers.Count - 1;
        for (var i = 0; i < last; i++)
        {
            _tensors[i] = Unique(_graph.Layers[i].Name, "out");
        }

        _tensors[last] = OnnxExporter.OutputName;
    }

    private string Unique(string name, string suffix)
    {
        if (_taken.Add(name))
        {
            return name;
        }

        for (var n = 1; ; n++)
        {
            var candidate = n == 1 ? $"{name}/{suffix}" : string.Create(CultureInfo.InvariantCulture, $"{name}/{suffix}{n}");
            if (_taken.Add(candidate))
            {
                return candidate;
            }
        }
    }

    private string InputOf(LayerNode layer, int position)
    {
        if (position >= layer.Inputs.Count)
        {
            throw new InvalidOperationException($"Layer '{layer.Name}' ({layer.Kind}) has no input; the graph is malformed.");
        }

        var index = layer.Inputs[position];
        if (index < -1 || index >= layer.Index)
        {
            throw new InvalidOperationException($"Layer '{layer.Name}' reads layer #{index}, which does not come before it; the graph is malformed.");
        }

        return index < 0 ? OnnxExporter.InputName : _tensors[index];
    }

    private string Parameter(LayerNode layer, string suffix)
    {
        var name = $"{layer.Name}.{suffix}";
        foreach (var spec in layer.Parameters)
        {
            if (spec.Name == name)
            {
                return name;
            }
        }

        throw new InvalidOperationException($"Layer '{layer.Name}' ({layer.Kind}) has no parameter '{name}'; the graph is malformed.");
    }

    private void WriteLayer(LayerNode layer)
    {
        var x = InputOf(layer, 0);
        var y = _tensors[layer.Index];
        var name = layer.Name;
        switch (layer.Kind)
        {
            case LayerKind.Dense:
                // Gemm: Y = A·Bᵀ (+ C); PruneGen's weight is [out, in], so B = weight with transB = 1.
                Node("Gemm", name, WeightAndBias(layer, x), y, IntAttribute("transB", 1));
                break;

            case LayerKind.Conv2D:
                Node("Conv", name, WeightAndBias(layer, x), y,
                    IntsAttribute("kernel_shape", layer.Kernel, layer.Kernel),
                    IntsAttribute("strides", layer.Stride, layer.Stride),
                    IntsAttribute("pads", layer.Padding, layer.Padding, layer.Padding, layer.Padding),
                    IntsAttribute("dilations", 1, 1),
                    IntAttribute("group", layer.Groups));
                break;

            case LayerKind.BatchNorm:
                // Inference mode (training_mode = 0, the default): running statistics, one output.
                Node("BatchNormalization", name,
                    new[] { x, Parameter(layer, "weight"), Parameter(layer, "bias"), Parameter(layer, "running_mean"), Parameter(layer, "running_var") },
                    y, FloatAttribute("epsilon", NetworkBuilder.BatchNormEpsilon));
                break;

            case LayerKind.ReLU:
                Node("Relu", name, new[] { x }, y);
                break;

            case LayerKind.LeakyReLU:
                Node("LeakyRelu", name, new[] { x }, y, FloatAttribute("alpha", (float)layer.Alpha));
                break;

            case LayerKind.Sigmoid:
                Node("Sigmoid", name, new[] { x }, y);
                break;

            case LayerKind.Tanh:
                Node("Tanh", name, new[] { x }, y);
                break;

            case LayerKind.MaxPool2D:
                // Padded taps are −∞ in ONNX MaxPool, as in PruneGen's kernel. ceil_mode = 0 (floor), as PruneGen.
                Node("MaxPool", name, new[] { x }, y, PoolAttributes(layer));
                break;

            case LayerKind.AvgPool2D:
                // PruneGen divides by the window area, padded taps counting as zeros: count_include_pad = 1.
                var attributes = new List<ProtoMessage>(PoolAttributes(layer)) { IntAttribute("count_include_pad", 1) };
                Node("AveragePool", name, new[] { x }, y, attributes.ToArray());
                break;

            case LayerKind.GlobalAvgPool:
                {
                    // GlobalAveragePool keeps N×C×1×1; PruneGen's global pooling is flat (N×C).
                    var pooled = Unique($"{name}/pool", "out");
                    Node("GlobalAveragePool", pooled, new[] { x }, pooled);
                    _proto.Message(OnnxProto.Graph.ValueInfo, ValueInfo(pooled, new TensorShape(layer.OutputShape.Channels, 1, 1, false)));
                    Node("Flatten", name, new[] { pooled }, y, IntAttribute("axis", 1));
                    break;
                }

            case LayerKind.Flatten:
                Node("Flatten", name, new[] { x }, y, IntAttribute("axis", 1));
                break;

            case LayerKind.Dropout:
                Node("Identity", name, new[] { x }, y);
                break;

            case LayerKind.Add:
                WriteAdd(layer, x, y);
                break;

            case LayerKind.Concat:
                {
                    var inputs = new string[layer.Inputs.Count];
                    for (var i = 0; i < inputs.Length; i++)
                    {
                        inputs[i] = InputOf(layer, i);
                    }

                    Node("Concat", name, inputs, y, IntAttribute("axis", 1));
                    break;
                }

            case LayerKind.Softmax:
                // Opset 13+ Softmax normalizes along `axis` only; PruneGen's softmax is per sample over a flat vector.
                Node("Softmax", name, new[] { x }, y, IntAttribute("axis", 1));
                break;

            default:
                throw new NotSupportedException(
                    $"Layer '{name}' has kind {layer.Kind}, which the ONNX exporter does not support" +
                    (layer.Kind is LayerKind.ResidualBlock or LayerKind.DepthwiseConv2D
                        ? " (it is a macro the graph builder expands; export the built graph, not a hand-made one)."
                        : "."));
        }

        if (layer.Index != _graph.Layers.Count - 1)
        {
            _proto.Message(OnnxProto.Graph.ValueInfo, ValueInfo(y, layer.OutputShape));
        }
    }

    /// <summary>An add of n tensors: a chain of n − 1 binary adds; the last one carries the layer's name.</summary>
    private void WriteAdd(LayerNode layer, string x, string y)
    {
        var count = layer.Inputs.Count;
        if (count == 1)
        {
            Node("Identity", layer.Name, new[] { x }, y);
            return;
        }

        var sum = x;
        for (var i = 1; i < count; i++)
        {
            var last = i == count - 1;
            var output = last ? y : Unique(string.Create(CultureInfo.InvariantCulture, $"{layer.Name}/sum{i}"), "out");
            Node("Add", last ? layer.Name : output, new[] { sum, InputOf(layer, i) }, output);
            if (!last)
            {
                _proto.Message(OnnxProto.Graph.ValueInfo, ValueInfo(output, layer.OutputShape));
            }

            sum = output;
        }
    }

    private string[] WeightAndBias(LayerNode layer, string x)
    {
        var weight = Parameter(layer, "weight");
        return layer.Bias ? new[] { x, weight, Parameter(layer, "bias") } : new[] { x, weight };
    }

    private static ProtoMessage[] PoolAttributes(LayerNode layer) => new[]
    {
        IntsAttribute("kernel_shape", layer.Kernel, layer.Kernel),
        IntsAttribute("strides", layer.Stride, layer.Stride),
        IntsAttribute("pads", layer.Padding, layer.Padding, layer.Padding, layer.Padding),
    };

    private void Node(string opType, string name, string[] inputs, string output, params ProtoMessage[] attributes)
    {
        var node = new ProtoMessage();
        foreach (var input in inputs)
        {
            node.String(OnnxProto.Node.Input, input);
        }

        node.String(OnnxProto.Node.Output, output)
            .String(OnnxProto.Node.Name, name)
            .String(OnnxProto.Node.OpType, opType);
        foreach (var attribute in attributes)
        {
            node.Message(OnnxProto.Node.Attribute, attribute);
        }

        _proto.Message(OnnxProto.Graph.Node, node);
    }

    private static ProtoMessage IntAttribute(string name, long value) => new ProtoMessage()
        .String(OnnxProto.Attribute.Name, name)
        .Int64(OnnxProto.Attribute.Type, OnnxProto.Attribute.TypeInt)
        .Int64(OnnxProto.Attribute.I, value);

    private static ProtoMessage FloatAttribute(string name, float value) => new ProtoMessage()
        .String(OnnxProto.Attribute.Name, name)
        .Int64(OnnxProto.Attribute.Type, OnnxProto.Attribute.TypeFloat)
        .Float(OnnxProto.Attribute.F, value);

    private static ProtoMessage IntsAttribute(string name, params long[] values)
    {
        var attribute = new ProtoMessage()
            .String(OnnxProto.Attribute.Name, name)
            .Int64(OnnxProto.Attribute.Type, OnnxProto.Attribute.TypeInts);
        foreach (var v in values)
        {
            attribute.Int64(OnnxProto.Attribute.Ints, v);
        }

        return attribute;
    }

    private void WriteInitializer(ParameterSpec spec)
    {
        var tensor = _parameters[spec.Name];
        if (tensor.Length != spec.Length)
        {
            throw new InvalidOperationException($"Parameter '{spec.Name}' holds {tensor.Length} values, but its shape [{string.Join("×", spec.Shape)}] needs {spec.Length}.");
        }

        var proto = new ProtoMessage();
        foreach (var d in spec.Shape)
        {
            proto.Int64(OnnxProto.Tensor.Dims, d);
        }

        proto.Int64(OnnxProto.Tensor.DataType, OnnxProto.Tensor.DataTypeFloat)
            .String(OnnxProto.Tensor.Name, spec.Name)
            .FloatsAsBytes(OnnxProto.Tensor.RawData, tensor.Data);
        _proto.Message(OnnxProto.Graph.Initializer, proto);
    }

    /// <summary>A float tensor of shape [N, C] (flat) or [N, C, H, W], N being the symbolic batch dimension.</summary>
    private static ProtoMessage ValueInfo(string name, TensorShape shape)
    {
        var dims = new ProtoMessage()
            .Message(OnnxProto.Shape.Dim, new ProtoMessage().String(OnnxProto.Shape.DimParam, OnnxExporter.BatchDimension))
            .Message(OnnxProto.Shape.Dim, new ProtoMessage().Int64(OnnxProto.Shape.DimValue, shape.Channels));
        if (!shape.Flat)
        {
            dims.Message(OnnxProto.Shape.Dim, new ProtoMessage().Int64(OnnxProto.Shape.DimValue, shape.Height))
                .Message(OnnxProto.Shape.Dim, new ProtoMessage().Int64(OnnxProto.Shape.DimValue, shape.Width));
        }

        var tensorType = new ProtoMessage()
            .Int64(OnnxProto.Type.TensorElemType, OnnxProto.Tensor.DataTypeFloat)
            .Message(OnnxProto.Type.TensorShape, dims);
        return new ProtoMessage()
            .String(OnnxProto.ValueInfo.Name, name)
            .Message(OnnxProto.ValueInfo.Type, new ProtoMessage().Message(OnnxProto.Type.TensorType, tensorType));
    }
}
