using PruneGen.Examples.Networks;

namespace PruneGen.Tests.Training;

public class InitializerTests
{
    [Fact]
    public void HeAndXavierUseTheirBoundsAndTheSameSeedGivesTheSameWeights()
    {
        var he = new LeNet5();
        var xavier = new LeNet5();
        Initializer.HeUniform(he, 3);
        Initializer.XavierUniform(xavier, 3);

        // conv1.weight is [6, 1, 5, 5]: fan_in 25, fan_out 150.
        var heBound = MathF.Sqrt(6f / 25);
        var xavierBound = MathF.Sqrt(6f / (25 + 150));
        Assert.All(he.Conv1Weight.Data, v => Assert.InRange(v, -heBound, heBound));
        Assert.All(xavier.Conv1Weight.Data, v => Assert.InRange(v, -xavierBound, xavierBound));
        Assert.True(he.Conv1Weight.Data.Max(MathF.Abs) > 0.9f * heBound);
        Assert.True(xavier.Conv1Weight.Data.Max(MathF.Abs) > 0.9f * xavierBound);
        Assert.All(he.Conv1Bias.Data, v => Assert.Equal(0f, v));

        var again = new LeNet5();
        Initializer.HeUniform(again, 3);
        Assert.Equal(he.Fc1Weight.Data, again.Fc1Weight.Data);
        Initializer.HeUniform(again, 4);
        Assert.NotEqual(he.Fc1Weight.Data, again.Fc1Weight.Data);
    }

    [Fact]
    public void BatchNormStartsAsTheIdentity()
    {
        var net = new VggNet();
        Initializer.HeUniform(net, 1);
        Assert.All(net.Bn1Weight.Data, v => Assert.Equal(1f, v));
        Assert.All(net.Bn1Bias.Data, v => Assert.Equal(0f, v));
        Assert.All(net.Bn1RunningMean.Data, v => Assert.Equal(0f, v));
        Assert.All(net.Bn1RunningVar.Data, v => Assert.Equal(1f, v));
    }
}
