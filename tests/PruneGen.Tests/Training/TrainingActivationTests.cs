namespace PruneGen.Tests.Training;

// 1×6×6 → conv 4@3 pad 1 (4×6×6) → ReLU → maxpool 2 (4×3×3) → flatten 36 → dense 5 → ReLU → dense 3.
// No BatchNorm or dropout, so the training forward computes exactly what Forward does.

/// <summary>A network whose training forward equals its inference forward, with a flatten alias in the middle.</summary>
[Network(1, 6, 6)]
[Conv2D("conv", 4, 3, Padding = 1), ReLU(Name = "relu_conv"), MaxPool2D(2)]
[Flatten]
[Dense("fc", 5), ReLU(Name = "relu_fc")]
[Dense("logits", 3)]
public partial class ActivationTestNet;

// 8 → dense 6 → BN → ReLU → dropout 0.5 → dense 2: training-mode BatchNorm and a dropout with memory of its own.

/// <summary>A network whose training forward differs from inference (batch statistics, dropout masks).</summary>
[Network(8)]
[Dense("fc", 6), BatchNorm("bn"), ReLU(Name = "relu"), Dropout(0.5)]
[Dense("logits", 2)]
public partial class ActivationDropoutNet;

/// <summary><see cref="ITrainableNetwork.TrainingActivation"/>: the right slice of the training workspace for every layer.</summary>
[Trait("Category", "Training")]
public class TrainingActivationTests
{
    private const int Batch = 3;

    private static float[] Input(int size, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, Batch * size).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
    }

    private static int Index(INetwork net, string name) => net.Graph.Find(name)!.Index;

    [Fact]
    public void EveryLayerHasBatchTimesItsOutputSizeFloats_AndTheLastEqualsForward()
    {
        var net = new ActivationTestNet();
        Initializer.HeUniform(net, 1);
        var input = Input(ActivationTestNet.InputSize, 2);

        var trained = net.TrainForward(input, Batch).ToArray();
        var output = new float[Batch * ActivationTestNet.OutputSize];
        net.Forward(input, output, Batch);

        foreach (var layer in ActivationTestNet.Graph.Layers)
        {
            Assert.Equal(Batch * layer.OutputShape.Size, net.TrainingActivation(layer.Index).Length);
        }

        Assert.Equal(trained, net.TrainingActivation(ActivationTestNet.Graph.Layers.Count - 1).ToArray());
        Assert.Equal(output, net.TrainingActivation(ActivationTestNet.Layers.Logits.Index).ToArray());
    }

    [Fact]
    public void TheInputIsTheCopyTrainForwardSaw()
    {
        var net = new ActivationTestNet();
        Initializer.HeUniform(net, 1);
        var input = Input(ActivationTestNet.InputSize, 3);

        net.TrainForward(input, Batch);

        Assert.Equal(input, net.TrainingActivation(-1).ToArray());
    }

    [Fact]
    public void AReLUsActivationIsTheMaximumOfZeroAndItsInputsActivation()
    {
        var net = new ActivationTestNet();
        Initializer.HeUniform(net, 1);
        net.TrainForward(Input(ActivationTestNet.InputSize, 4), Batch);

        foreach (var name in new[] { "relu_conv", "relu_fc" })
        {
            var relu = ActivationTestNet.Graph.Find(name)!;
            var x = net.TrainingActivation(relu.Inputs[0]).ToArray();
            var y = net.TrainingActivation(relu.Index).ToArray();
            Assert.Equal(x.Length, y.Length);
            Assert.Contains(x, v => v < 0);
            Assert.Equal(x.Select(v => MathF.Max(0, v)), y);
        }
    }

    [Fact]
    public void AFlattenReturnsTheDataItAliases_AndTheDenseAfterItReadsThatData()
    {
        var net = new ActivationTestNet();
        Initializer.HeUniform(net, 1);
        net.TrainForward(Input(ActivationTestNet.InputSize, 5), Batch);

        var flatten = ActivationTestNet.Graph.Find("flatten1")!;
        var pooled = net.TrainingActivation(flatten.Inputs[0]);
        var flat = net.TrainingActivation(flatten.Index);
        Assert.True(pooled == flat, "a flatten's activation is the same memory as its input's");

        // fc = flat · Wᵀ + b, from the activation the accessor returns.
        var fc = net.TrainingActivation(Index(net, "fc")).ToArray();
        var (inputs, units) = (ActivationTestNet.Layers.Flatten1.Size, ActivationTestNet.Layers.Fc.Size);
        for (var n = 0; n < Batch; n++)
        {
            for (var o = 0; o < units; o++)
            {
                double sum = net.FcBias.Data[o];
                for (var i = 0; i < inputs; i++)
                {
                    sum += flat[(n * inputs) + i] * net.FcWeight.Data[(o * inputs) + i];
                }

                Assert.Equal(sum, fc[(n * units) + o], 4);
            }
        }
    }

    [Fact]
    public void DropoutReturnsItsMaskedOutput_AndBatchNormItsBatchNormalizedOutput()
    {
        var net = new ActivationDropoutNet();
        Initializer.HeUniform(net, 1);
        net.TrainForward(Input(ActivationDropoutNet.InputSize, 6), Batch);

        // Inverted dropout at rate 0.5: each element is dropped (0) or doubled.
        var x = net.TrainingActivation(Index(net, "relu")).ToArray();
        var y = net.TrainingActivation(Index(net, "dropout1")).ToArray();
        Assert.Equal(x.Length, y.Length);
        Assert.All(Enumerable.Range(0, x.Length), i => Assert.True(y[i] == 0 || Math.Abs(y[i] - (2 * x[i])) < 1e-5f, $"element {i}: {x[i]} → {y[i]}"));
        Assert.Contains(Enumerable.Range(0, x.Length), i => x[i] > 0 && y[i] == 0);

        // Training-mode BatchNorm with γ = 1, β = 0: every feature has mean 0 over the batch.
        var bn = net.TrainingActivation(Index(net, "bn")).ToArray();
        for (var f = 0; f < ActivationDropoutNet.Layers.Bn.Size; f++)
        {
            var mean = Enumerable.Range(0, Batch).Average(n => bn[(n * ActivationDropoutNet.Layers.Bn.Size) + f]);
            Assert.Equal(0.0, mean, 4);
        }
    }

    [Fact]
    public void ALaterTrainForwardWithAnotherBatchResizesTheViews()
    {
        var net = new ActivationTestNet();
        Initializer.HeUniform(net, 1);
        net.TrainForward(Input(ActivationTestNet.InputSize, 7), Batch);
        var one = Input(ActivationTestNet.InputSize, 8).AsSpan(0, ActivationTestNet.InputSize).ToArray();

        var output = net.TrainForward(one, 1).ToArray();

        Assert.Equal(one, net.TrainingActivation(-1).ToArray());
        Assert.Equal(output, net.TrainingActivation(ActivationTestNet.Layers.Logits.Index).ToArray());
    }

    [Fact]
    public void BeforeTrainForward_Throws()
    {
        var net = new ActivationTestNet();

        var e = Assert.Throws<InvalidOperationException>(() => net.TrainingActivation(0).Length);

        Assert.Contains("ActivationTestNet", e.Message, StringComparison.Ordinal);
        Assert.Contains("call TrainForward first", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-2)]
    [InlineData(ActivationTestNet.LayerCount)]
    [InlineData(int.MaxValue)]
    public void ALayerIndexOutOfRange_Throws_NamingTheNetworkAndTheRange(int layer)
    {
        var net = new ActivationTestNet();
        Initializer.HeUniform(net, 1);
        net.TrainForward(Input(ActivationTestNet.InputSize, 9), Batch);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => net.TrainingActivation(layer).Length);

        Assert.Equal("layer", e.ParamName);
        Assert.Contains("ActivationTestNet", e.Message, StringComparison.Ordinal);
        Assert.Contains($"0 to {ActivationTestNet.LayerCount - 1}", e.Message, StringComparison.Ordinal);
        Assert.Contains("-1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadingActivationsAllocatesNothing()
    {
        var net = new ActivationTestNet();
        Initializer.HeUniform(net, 1);
        net.TrainForward(Input(ActivationTestNet.InputSize, 10), Batch);
        var sum = 0f;
        for (var layer = -1; layer < ActivationTestNet.LayerCount; layer++)
        {
            sum += net.TrainingActivation(layer)[0];
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var repeat = 0; repeat < 100; repeat++)
        {
            for (var layer = -1; layer < ActivationTestNet.LayerCount; layer++)
            {
                sum += net.TrainingActivation(layer)[0];
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.False(float.IsNaN(sum));
    }
}
