using PruneGen.Checkpoints;
using PruneGen.Examples.Networks;
using PruneGen.Tests.Data;
using Xunit.Abstractions;

namespace PruneGen.Tests.Checkpoints;

[Trait("Category", "Data")]
public sealed class CheckpointTests(ITestOutputHelper output) : IDisposable
{
    private readonly DataTestSupport.TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static VggNet TrainedLikeVgg(int seed)
    {
        var net = new VggNet();
        Initializer.HeUniform(net, seed);
        var random = new Random(seed);
        foreach (var p in net.Parameters)
        {
            if (p.Name.EndsWith("running_mean", StringComparison.Ordinal) || p.Name.EndsWith(".bias", StringComparison.Ordinal))
            {
                for (var i = 0; i < p.Length; i++)
                {
                    p.Data[i] = (float)random.NextDouble() - 0.5f;
                }
            }
            else if (p.Name.EndsWith("running_var", StringComparison.Ordinal))
            {
                for (var i = 0; i < p.Length; i++)
                {
                    p.Data[i] = 0.5f + (float)random.NextDouble();
                }
            }
        }

        return net;
    }

    [Fact]
    public void ACheckpointRoundTripsEveryParameterAndTheForwardPass()
    {
        var path = _dir.File("vgg.safetensors");
        var saved = TrainedLikeVgg(1);
        var optimizerState = new SafetensorsTensor("optimizer.conv1.weight.momentum", [32, 1, 3, 3], [.. Enumerable.Range(0, 288).Select(i => i * 0.5f)]);
        Checkpoint.Save(saved, path, new Dictionary<string, string> { ["epoch"] = "5", ["plan"] = "conv3: 48" }, [optimizerState]);

        var loaded = new VggNet();
        var contents = Checkpoint.Load(loaded, path);
        foreach (var p in saved.Parameters)
        {
            Assert.Equal(p.Data, loaded.Parameters[p.Name].Data);
        }

        Assert.Equal("5", contents.Metadata["epoch"]);
        Assert.Equal("conv3: 48", contents.Metadata["plan"]);
        Assert.Equal("pt", contents.Metadata["format"]);
        Assert.Equal(VggNet.Graph.Name, contents.Metadata[Checkpoint.NetworkKey]);
        var momentum = Assert.Single(contents.ExtraTensors);
        Assert.Equal(optimizerState.Data, momentum.Data);
        Assert.Same(momentum, contents.FindExtra("optimizer.conv1.weight.momentum"));

        var input = Enumerable.Range(0, 2 * VggNet.InputSize).Select(i => (i % 29) / 29f).ToArray();
        var expected = new float[2 * VggNet.OutputSize];
        var actual = new float[2 * VggNet.OutputSize];
        saved.Forward(input, expected, 2);
        loaded.Forward(input, actual, 2);
        Assert.Equal(expected, actual);

        // Tensor names are the parameter names, in layer order.
        var file = SafetensorsFile.Read(path);
        Assert.Equal(saved.Parameters.Select(p => p.Name).Append("optimizer.conv1.weight.momentum"), file.Tensors.Select(t => t.Name));
        Assert.Equal([32], file["bn1.running_mean"].Shape);
    }

    [Fact]
    public void ACheckpointOfAnotherNetworkNamesTheFirstMismatch()
    {
        var path = _dir.File("lenet.safetensors");
        var lenet = new LeNet5();
        Initializer.HeUniform(lenet, 2);
        Checkpoint.Save(lenet, path);

        var vgg = TrainedLikeVgg(3);
        var before = vgg.Parameters.Select(p => p.Data.ToArray()).ToArray();
        var e = Assert.Throws<CheckpointMismatchException>(() => Checkpoint.Load(vgg, path));
        output.WriteLine(e.Message);
        Assert.StartsWith(
            $"checkpoint '{path}' does not fit the network: tensor 'conv1.weight' has shape [6, 1, 5, 5] in the file but the network expects [32, 1, 3, 3]. Network: '{VggNet.Graph.Name}'; checkpoint: saved from '{LeNet5.Graph.Name}'. (",
            e.Message);
        Assert.Equal("conv1.weight", e.TensorName);
        Assert.Equal([32, 1, 3, 3], e.ExpectedShape);
        Assert.Equal([6, 1, 5, 5], e.FoundShape);
        Assert.Equal(path, e.FilePath);
        Assert.True(e.MismatchCount > 30);

        // Nothing was copied into the network.
        Assert.All(vgg.Parameters.Select((p, i) => (p, i)), x => Assert.Equal(before[x.i], x.p.Data));
    }

    [Fact]
    public void AMissingTensorAWrongShapeAndAnUnexpectedTensorAreEachNamed()
    {
        var lenet = new LeNet5();
        Initializer.HeUniform(lenet, 4);

        // fc1.weight stored transposed: same element count, wrong shape.
        var file = new SafetensorsFile();
        foreach (var p in lenet.Parameters)
        {
            file.Add(p.Name, p.Name == "fc1.weight" ? [400, 120] : [.. p.Shape], p.Data);
        }

        var path = _dir.File("transposed.safetensors");
        file.Write(path);
        var e = Assert.Throws<CheckpointMismatchException>(() => Checkpoint.Load(new LeNet5(), path));
        Assert.Equal($"checkpoint '{path}' does not fit the network: tensor 'fc1.weight' has shape [400, 120] in the file but the network expects [120, 400]. Network: '{LeNet5.Graph.Name}'; checkpoint: no network recorded.", e.Message);

        file = new SafetensorsFile();
        foreach (var p in lenet.Parameters.Where(p => p.Name != "conv2.bias"))
        {
            file.Add(p.Name, [.. p.Shape], p.Data);
        }

        file.Write(path);
        e = Assert.Throws<CheckpointMismatchException>(() => Checkpoint.Load(new LeNet5(), path));
        Assert.Contains("the file has no tensor 'conv2.bias' (the network expects shape [16])", e.Message);
        Assert.Null(e.FoundShape);

        file.Add("conv2.bias", [16], new float[16]);
        file.Add("conv3.weight", [2, 2], new float[4]);
        file.Write(path);
        e = Assert.Throws<CheckpointMismatchException>(() => Checkpoint.Load(new LeNet5(), path));
        Assert.Contains("the file has tensor 'conv3.weight' [2, 2], which is not a parameter of the network", e.Message);
        Assert.Null(e.ExpectedShape);
    }

    [Fact]
    public void ACorruptCheckpointIsAnInvalidDataException()
    {
        var path = _dir.File("corrupt.safetensors");
        Checkpoint.Save(new LeNet5(), path);
        var bytes = File.ReadAllBytes(path);
        bytes[12] = (byte)'!';
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(new LeNet5(), path));
        Assert.StartsWith($"safetensors file '{path}': ", e.Message);
    }

    [Fact]
    public void AnInterruptedSaveLeavesThePreviousCheckpointByteIdentical()
    {
        var path = _dir.File("vgg.safetensors");
        Checkpoint.Save(TrainedLikeVgg(1), path, new Dictionary<string, string> { ["epoch"] = "1" });
        var before = File.ReadAllBytes(path);

        var next = Checkpoint.ToSafetensors(TrainedLikeVgg(2), new Dictionary<string, string> { ["epoch"] = "2" });
        Assert.Throws<IOException>(() => next.Write(path, s => new SafetensorsFileTests.FailingStream(s, failAfter: before.Length / 2)));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_dir.Path));
        Assert.Equal("1", Checkpoint.Load(new VggNet(), path).Metadata["epoch"]);
    }

    [Fact]
    public void SaveRejectsReservedKeysAndClashingExtraTensors()
    {
        var net = new LeNet5();
        var path = _dir.File("x.safetensors");
        Assert.Contains("reserved", Assert.Throws<ArgumentException>(() => Checkpoint.Save(net, path, new Dictionary<string, string> { ["prunegen.network"] = "x" })).Message);
        var clash = new SafetensorsTensor("conv1.bias", [6], new float[6]);
        Assert.Contains("has the name of a parameter", Assert.Throws<ArgumentException>(() => Checkpoint.Save(net, path, null, [clash])).Message);
        Assert.False(File.Exists(path));
    }
}
