using PruneGen.Examples.Networks;

namespace PruneGen.Tests;

public class SmokeTests
{
    [Fact]
    public void ReferenceNetworksHaveTheDocumentedCosts()
    {
        // BENCHMARKS.md: VGG-style ≈29.4 M MACs, tiny ResNet ≈20 M MACs, MLP 784-256-128-10.
        Assert.Equal(29_424_640L, VggNet.TotalMacs);
        Assert.InRange(TinyResNet.TotalMacs, 19_500_000L, 20_500_000L);
        Assert.Equal((784L * 256) + (256 * 128) + (128 * 10), Mlp.TotalMacs);
        Assert.Equal(10, LeNet5.OutputSize);
    }

    [Fact]
    public void ForwardRunsOnABatch()
    {
        var net = new LeNet5();
        Initializer.HeUniform(net, seed: 1);
        var input = new float[3 * LeNet5.InputSize];
        for (var i = 0; i < input.Length; i++)
        {
            input[i] = (i % 17) / 17f;
        }

        var output = new float[3 * LeNet5.OutputSize];
        net.Forward(input, output, 3);
        Assert.All(output, v => Assert.True(float.IsFinite(v)));
        Assert.Contains(output, v => v != 0);
    }
}
