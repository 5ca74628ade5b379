using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using PruneGen.Examples.Networks;
using PruneGen.Model;
using PruneGen.Onnx;

namespace PruneGen.Tests.Onnx;

/// <summary>
/// The exported model's structure (read back with OnnxSharp, an independent parser generated from
/// onnx.proto), the metadata ONNX Runtime sees, saving to disk, and argument and error handling.
/// </summary>
[Trait("Category", "Onnx")]
public class OnnxExporterTests
{
    [Theory]
    [InlineData(typeof(LeNet5), new long[] { -1, 1, 28, 28 }, new long[] { -1, 10 })]
    [InlineData(typeof(TinyResNet), new long[] { -1, 1, 28, 28 }, new long[] { -1, 10 })]
    [InlineData(typeof(OnnxFlatNet), new long[] { -1, 20 }, new long[] { -1, 5 })]
    [InlineData(typeof(OnnxNameClashNet), new long[] { -1, 2, 5, 7 }, new long[] { -1, 3 })]
    public void RuntimeSeesTheInputAndOutputShapes(Type networkType, long[] input, long[] output)
    {
        var network = (INetwork)Activator.CreateInstance(networkType)!;
        using var session = OrtOracle.CreateSession(OnnxExporter.Export(network));

        var inputMeta = Assert.Single(session.InputMetadata);
        Assert.Equal(OnnxExporter.InputName, inputMeta.Key);
        Assert.Equal(TensorElementType.Float, inputMeta.Value.ElementDataType);
        Assert.Equal(input, inputMeta.Value.Dimensions.Select(d => (long)d));
        Assert.Equal(OnnxExporter.BatchDimension, inputMeta.Value.SymbolicDimensions[0]);

        var outputMeta = Assert.Single(session.OutputMetadata);
        Assert.Equal(OnnxExporter.OutputName, outputMeta.Key);
        Assert.Equal(TensorElementType.Float, outputMeta.Value.ElementDataType);
        Assert.Equal(output, outputMeta.Value.Dimensions.Select(d => (long)d));
        Assert.Equal(OnnxExporter.BatchDimension, outputMeta.Value.SymbolicDimensions[0]);
    }

    [Fact]
    public void ModelDeclaresIrVersionOpsetAndProducer()
    {
        var model = Parse(new Mlp());
        Assert.Equal(8, model.IrVersion);
        var opset = Assert.Single(model.OpsetImport);
        Assert.Equal(string.Empty, opset.Domain);
        Assert.Equal(17, opset.Version);
        Assert.Equal("PruneGen", model.ProducerName);
        Assert.Equal(nameof(Mlp), model.Graph.Name);
    }

    /// <summary>Every parameter is an initializer of the same name, shape and bit-exact values, and nothing else is.</summary>
    [Theory]
    [InlineData(typeof(VggNet))]
    [InlineData(typeof(TinyResNet))]
    [InlineData(typeof(OnnxKindsNet))]
    public void InitializersAreTheParameters(Type networkType)
    {
        var network = (INetwork)Activator.CreateInstance(networkType)!;
        OrtOracle.Randomize(network, 11);
        var graph = Parse(network).Graph;

        Assert.Equal(network.Parameters.Select(p => p.Name), graph.Initializer.Select(t => t.Name));
        foreach (var tensor in graph.Initializer)
        {
            var parameter = network.Parameters[tensor.Name];
            Assert.Equal((int)TensorProto.Types.DataType.Float, tensor.DataType);
            Assert.Equal(parameter.Shape.Select(d => (long)d), tensor.Dims);
            var values = new float[tensor.RawData.Length / sizeof(float)];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = BitConverter.ToSingle(tensor.RawData.Span.Slice(i * sizeof(float), sizeof(float)));
            }

            Assert.Equal(parameter.Data, values);
        }

        // Initializers are constants, not graph inputs the caller could override.
        Assert.Equal(new[] { OnnxExporter.InputName }, graph.Input.Select(i => i.Name));
    }

    /// <summary>Each layer is a node of its name, reading the tensors of the layers it reads; node names are unique.</summary>
    [Theory]
    [InlineData(typeof(TinyResNet))]
    [InlineData(typeof(OnnxKindsNet))]
    [InlineData(typeof(OnnxFlatNet))]
    public void NodesAreNamedAfterLayersAndWiredLikeTheGraph(Type networkType)
    {
        var network = (INetwork)Activator.CreateInstance(networkType)!;
        var graph = Parse(network).Graph;
        var nodes = graph.Node.ToDictionary(n => n.Name);
        Assert.Equal(graph.Node.Count, nodes.Count);

        var layers = network.Graph.Layers;
        string TensorOf(int index) => index < 0 ? OnnxExporter.InputName : index == layers.Count - 1 ? OnnxExporter.OutputName : layers[index].Name;
        foreach (var layer in layers)
        {
            var node = nodes[layer.Name];
            Assert.Equal(TensorOf(layer.Index), Assert.Single(node.Output));
            if (layer.Kind is not (LayerKind.Add or LayerKind.GlobalAvgPool))
            {
                Assert.Equal(TensorOf(layer.Inputs[0]), node.Input[0]);
            }

            if (layer.Kind == LayerKind.Concat)
            {
                Assert.Equal(layer.Inputs.Select(TensorOf), node.Input);
            }
        }

        // Every tensor a node reads is the graph input, an initializer or an earlier node's output (topological order).
        var available = new HashSet<string>(graph.Initializer.Select(t => t.Name)) { OnnxExporter.InputName };
        foreach (var node in graph.Node)
        {
            Assert.All(node.Input, i => Assert.Contains(i, available));
            Assert.All(node.Output, o => Assert.True(available.Add(o), $"Tensor '{o}' is produced twice."));
        }
    }

    [Fact]
    public void LayersMapToTheDocumentedOperatorsAndAttributes()
    {
        var graph = Parse(new OnnxKindsNet()).Graph;
        var nodes = graph.Node.ToDictionary(n => n.Name);

        // Grouped convolution without bias: two inputs, group 3, symmetric pads.
        var c1 = nodes["c1"];
        Assert.Equal("Conv", c1.OpType);
        Assert.Equal(new[] { "input", "c1.weight" }, c1.Input);
        Assert.Equal(3, Attribute(c1, "group").I);
        Assert.Equal(new long[] { 3, 3 }, Attribute(c1, "kernel_shape").Ints);
        Assert.Equal(new long[] { 1, 1 }, Attribute(c1, "strides").Ints);
        Assert.Equal(new long[] { 1, 1, 1, 1 }, Attribute(c1, "pads").Ints);

        // Depthwise convolution: a Conv with one group per input channel.
        Assert.Equal("Conv", nodes["dw2"].OpType);
        Assert.Equal(8, Attribute(nodes["dw2"], "group").I);
        Assert.Equal(new long[] { 2, 2 }, Attribute(nodes["down"], "strides").Ints);
        Assert.Equal(new[] { "sum", "down.weight", "down.bias" }, nodes["down"].Input);

        Assert.Equal("LeakyRelu", nodes["lrelu"].OpType);
        Assert.Equal(0.1f, Attribute(nodes["lrelu"], "alpha").F);
        Assert.Equal("Sigmoid", nodes["sig"].OpType);
        Assert.Equal("Tanh", nodes["th"].OpType);

        // A three-way add is a chain of two adds; the last carries the layer's name and tensor.
        var adds = graph.Node.Where(n => n.OpType == "Add").ToList();
        Assert.Equal(2, adds.Count);
        Assert.Equal(new[] { "th", "sig" }, adds[0].Input);
        Assert.Equal(new[] { adds[0].Output[0], "lrelu" }, adds[1].Input);
        Assert.Equal("sum", adds[1].Name);

        Assert.Equal("MaxPool", nodes["mp"].OpType);
        Assert.Equal(new long[] { 2, 2 }, Attribute(nodes["mp"], "strides").Ints);
        Assert.Equal(new long[] { 1, 1, 1, 1 }, Attribute(nodes["mp"], "pads").Ints);
        Assert.Equal("AveragePool", nodes["ap"].OpType);
        Assert.Equal(1, Attribute(nodes["ap"], "count_include_pad").I);

        Assert.Equal("Concat", nodes["cat"].OpType);
        Assert.Equal(1, Attribute(nodes["cat"], "axis").I);

        var bn = nodes["bn1d"];
        Assert.Equal("BatchNormalization", bn.OpType);
        Assert.Equal(new[] { "fc", "bn1d.weight", "bn1d.bias", "bn1d.running_mean", "bn1d.running_var" }, bn.Input);
        Assert.Equal(1e-5f, Attribute(bn, "epsilon").F);
        Assert.Single(bn.Output);

        Assert.Equal("Flatten", nodes["flatten1"].OpType);
        Assert.Equal(1, Attribute(nodes["flatten1"], "axis").I);

        // Dense without bias: Gemm with no C; with bias: three inputs. Both transB = 1.
        Assert.Equal("Gemm", nodes["fc"].OpType);
        Assert.Equal(new[] { "flatten1", "fc.weight" }, nodes["fc"].Input);
        Assert.Equal(1, Attribute(nodes["fc"], "transB").I);
        Assert.Equal(new[] { "dropout1", "head.weight", "head.bias" }, nodes["head"].Input);

        Assert.Equal("Identity", nodes["dropout1"].OpType);
        Assert.Equal("Softmax", nodes["softmax1"].OpType);
        Assert.Equal(1, Attribute(nodes["softmax1"], "axis").I);
        Assert.Equal(OnnxExporter.OutputName, nodes["softmax1"].Output[0]);
    }

    [Fact]
    public void GlobalAvgPoolIsFollowedByFlatten()
    {
        var nodes = Parse(new TinyResNet()).Graph.Node.ToDictionary(n => n.Name);
        var flatten = nodes["gap1"];
        Assert.Equal("Flatten", flatten.OpType);
        var pool = nodes[Assert.Single(flatten.Input)];
        Assert.Equal("GlobalAveragePool", pool.OpType);
        Assert.Equal("s3b2.relu", Assert.Single(pool.Input));
        Assert.Equal(new[] { "gap1", "logits.weight", "logits.bias" }, nodes["logits"].Input);
    }

    /// <summary>A layer called "output" that is not the last keeps its node name but gets another tensor name.</summary>
    [Fact]
    public void LayerNamedOutputDoesNotClashWithTheGraphOutput()
    {
        var graph = Parse(new OnnxNameClashNet()).Graph;
        var nodes = graph.Node.ToDictionary(n => n.Name);
        var conv = nodes["output"];
        Assert.Equal("Conv", conv.OpType);
        Assert.NotEqual(OnnxExporter.OutputName, conv.Output[0]);
        Assert.Equal(conv.Output[0], nodes["relu1"].Input[0]);
        Assert.Equal(OnnxExporter.OutputName, nodes["fc"].Output[0]);
        Assert.Single(graph.Node, n => n.Output.Contains(OnnxExporter.OutputName));
    }

    [Fact]
    public void ExportIsDeterministic()
    {
        var network = new LeNet5();
        OrtOracle.Randomize(network, 2);
        Assert.Equal(OnnxExporter.Export(network), OnnxExporter.Export(network));
    }

    [Fact]
    public void SaveWritesAModelTheRuntimeLoadsAndLeavesNoTemporaryFile()
    {
        using var folder = new TemporaryFolder();
        var network = new OnnxKindsNet();
        OrtOracle.Randomize(network, 21);
        var path = Path.Combine(folder.Path, "kinds.onnx");

        OnnxExporter.Save(network, path);

        Assert.Equal(new[] { path }, Directory.GetFiles(folder.Path, "*", SearchOption.AllDirectories));
        Assert.Equal(OnnxExporter.Export(network), File.ReadAllBytes(path));
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(path, options);
        var input = OrtOracle.RandomArray(2 * OnnxKindsNet.InputSize, 22);
        OrtOracle.AssertClose(OrtOracle.Run(session, OnnxKindsNet.Graph, input, 2), OrtOracle.Forward(network, input, 2), "OnnxKindsNet loaded from a file");
    }

    [Fact]
    public void SaveOverwritesAnExistingFile()
    {
        using var folder = new TemporaryFolder();
        var path = Path.Combine(folder.Path, "model.onnx");
        File.WriteAllText(path, new string('x', 1_000_000));
        var network = new Mlp();
        OrtOracle.Randomize(network, 31);

        OnnxExporter.Save(network, path);

        Assert.Equal(OnnxExporter.Export(network), File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(folder.Path));
        using var session = OrtOracle.CreateSession(File.ReadAllBytes(path));
        Assert.Equal(OnnxExporter.InputName, Assert.Single(session.InputMetadata).Key);
    }

    [Fact]
    public void SaveAcceptsARelativePath()
    {
        using var folder = new TemporaryFolder();
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, Path.Combine(folder.Path, "relative.onnx"));

        OnnxExporter.Save(new Mlp(), relative);

        Assert.True(File.Exists(Path.Combine(folder.Path, "relative.onnx")));
        Assert.Single(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void BadArgumentsAreRejectedClearly()
    {
        using var folder = new TemporaryFolder();
        var network = new Mlp();

        Assert.Throws<ArgumentNullException>("network", () => OnnxExporter.Export(null!));
        Assert.Throws<ArgumentNullException>("network", () => OnnxExporter.Save(null!, Path.Combine(folder.Path, "a.onnx")));
        Assert.Throws<ArgumentNullException>("path", () => OnnxExporter.Save(network, null!));
        Assert.Throws<ArgumentException>("path", () => OnnxExporter.Save(network, string.Empty));
        Assert.Throws<ArgumentException>("path", () => OnnxExporter.Save(network, "   "));
        var toFolder = Assert.Throws<ArgumentException>("path", () => OnnxExporter.Save(network, folder.Path));
        Assert.Contains("folder", toFolder.Message, StringComparison.Ordinal);
        var missing = Path.Combine(folder.Path, "missing", "a.onnx");
        var notFound = Assert.Throws<DirectoryNotFoundException>(() => OnnxExporter.Save(network, missing));
        Assert.Contains(Path.Combine(folder.Path, "missing"), notFound.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }

    [Theory]
    [InlineData(LayerKind.ResidualBlock)]
    [InlineData(LayerKind.DepthwiseConv2D)]
    [InlineData((LayerKind)999)]
    public void UnsupportedLayerKindThrowsNamingTheLayer(LayerKind kind)
    {
        var network = new HandMadeNetwork(kind, "weird_layer");

        var error = Assert.Throws<NotSupportedException>(() => OnnxExporter.Export(network));
        Assert.Contains("'weird_layer'", error.Message, StringComparison.Ordinal);

        // Save exports before touching the disk: a failed export leaves no file, temporary or final.
        using var folder = new TemporaryFolder();
        Assert.Throws<NotSupportedException>(() => OnnxExporter.Save(network, Path.Combine(folder.Path, "m.onnx")));
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }

    [Fact]
    public void HandMadeNetworkOfSupportedKindsExports()
    {
        // Control for the test above: the same hand-made network with a ReLU is fine.
        var network = new HandMadeNetwork(LayerKind.ReLU, "relu");
        using var session = OrtOracle.CreateSession(OnnxExporter.Export(network));
        var output = OrtOracle.Run(session, network.Graph, new float[] { -1, 2, -3, 4 }, 1);
        Assert.Equal(new float[] { 0, 2, 0, 4 }, output);
    }

    [Fact]
    public void MissingOrMisSizedParameterIsReported()
    {
        var graph = Mlp.Graph;
        var missing = new HandMadeNetwork(graph, new ParameterSet(Array.Empty<ParameterTensor>()));
        var notFound = Assert.Throws<KeyNotFoundException>(() => OnnxExporter.Export(missing));
        Assert.Contains("fc1.weight", notFound.Message, StringComparison.Ordinal);

        var wrong = graph.AllParameters.Select(p => p.Name == "fc2.bias"
            ? new ParameterTensor(p with { Shape = new EquatableArray<int>(new[] { 3 }) })
            : new ParameterTensor(p)).ToArray();
        var misSized = Assert.Throws<InvalidOperationException>(() => OnnxExporter.Export(new HandMadeNetwork(graph, new ParameterSet(wrong))));
        Assert.Contains("fc2.bias", misSized.Message, StringComparison.Ordinal);
    }

    private static ModelProto Parse(INetwork network) => ModelProto.Parser.ParseFrom(OnnxExporter.Export(network));

    private static AttributeProto Attribute(NodeProto node, string name) => Assert.Single(node.Attribute, a => a.Name == name);

    /// <summary>An <see cref="INetwork"/> over a graph built by hand (one layer of any kind), for what the DSL cannot declare.</summary>
    private sealed class HandMadeNetwork : INetwork
    {
        public static readonly NetworkGraph Shape = new("HandMade", new TensorShape(4, 1, 1, true), EquatableArray<LayerNode>.Empty);

        public HandMadeNetwork(LayerKind kind, string name)
        {
            var shape = Shape.InputShape;
            var layer = new LayerNode(0, name, "L", kind, new EquatableArray<int>(new[] { -1 }), shape, shape, 0, 0, 0, 1, false, 0, 0, EquatableArray<ParameterSpec>.Empty, null, 0);
            Graph = Shape with { Layers = new EquatableArray<LayerNode>(new[] { layer }) };
            Parameters = new ParameterSet(Array.Empty<ParameterTensor>());
        }

        public HandMadeNetwork(NetworkGraph graph, ParameterSet parameters) => (Graph, Parameters) = (graph, parameters);

        public NetworkGraph Graph { get; }

        public ParameterSet Parameters { get; }

        public int InputSize => Graph.InputShape.Size;

        public int OutputSize => Graph.OutputShape.Size;

        public void Forward(ReadOnlySpan<float> input, Span<float> output, int batch) => throw new NotSupportedException();
    }

    private sealed class TemporaryFolder : IDisposable
    {
        public TemporaryFolder()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "prunegen-onnx-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
