using PruneGen.Model;
using PruneGen.Training;
using static PruneGen.Tests.Training.TrainingTestSupport;

namespace PruneGen.Tests.Training;

/// <summary>SGD (plain, momentum, Nesterov, weight decay) and AdamW on hand-computed steps; state and validation.</summary>
[Trait("Category", "Training")]
public class OptimizerTests
{
    /// <summary>A dense weight [1×2] (decayed), its bias [2] and BatchNorm-like γ [2] (not decayed), and a running mean (not trainable).</summary>
    private static ParameterSet Parameters(float[] weight, float[]? bias = null)
    {
        static ParameterTensor Tensor(string name, bool trainable, params int[] shape) => new(new ParameterSpec(name, new EquatableArray<int>(shape), trainable));
        var set = new ParameterSet([Tensor("fc.weight", true, 1, 2), Tensor("fc.bias", true, 2), Tensor("bn.weight", true, 2), Tensor("bn.running_mean", false, 2)]);
        weight.CopyTo(set["fc.weight"].Data);
        (bias ?? [0, 0]).CopyTo(set["fc.bias"].Data);
        return set;
    }

    private static void Step(Optimizer optimizer, float learningRate, float[] weightGradient, float[]? biasGradient = null)
    {
        weightGradient.CopyTo(optimizer.Parameters["fc.weight"].Gradient);
        (biasGradient ?? [0, 0]).CopyTo(optimizer.Parameters["fc.bias"].Gradient);
        optimizer.Update(learningRate);
    }

    [Fact]
    public void PlainSgdStepsAgainstTheGradient()
    {
        // w = (1, −2), g = (0.1, 0.2), lr 0.5: w − lr·g = (0.95, −2.1); then g = (−0.3, 0.4): (1.1, −2.3).
        var sgd = new Sgd(Parameters([1, -2]), momentum: 0, nesterov: false);
        Step(sgd, 0.5f, [0.1f, 0.2f]);
        AssertClose([0.95, -2.1], sgd.Parameters["fc.weight"].Data, 1e-6, "after step 1");
        Step(sgd, 0.5f, [-0.3f, 0.4f]);
        AssertClose([1.1, -2.3], sgd.Parameters["fc.weight"].Data, 1e-6, "after step 2");
        Assert.Equal(2, sgd.Step);
        Assert.Empty(sgd.State);
        Assert.Empty(sgd.StateNames);
    }

    [Fact]
    public void MomentumAccumulatesVelocity()
    {
        // μ 0.9, lr 0.1, w = (0, 1). Step 1: v = g₁ = (1, −2), w = (−0.1, 1.2).
        // Step 2: g₂ = (0.5, 0.5), v = 0.9·(1, −2) + g₂ = (1.4, −1.3), w = (−0.24, 1.33).
        var sgd = new Sgd(Parameters([0, 1]), momentum: 0.9f, nesterov: false);
        Step(sgd, 0.1f, [1, -2]);
        AssertClose([-0.1, 1.2], sgd.Parameters["fc.weight"].Data, 1e-6, "after step 1");
        AssertClose([1, -2], sgd.State["fc.weight.momentum"], 1e-6, "velocity after step 1");
        Step(sgd, 0.1f, [0.5f, 0.5f]);
        AssertClose([-0.24, 1.33], sgd.Parameters["fc.weight"].Data, 1e-6, "after step 2");
        AssertClose([1.4, -1.3], sgd.State["fc.weight.momentum"], 1e-6, "velocity after step 2");
    }

    [Fact]
    public void NesterovLooksAhead()
    {
        // Same steps; the step is g + μ·v. Step 1: 1.9·g₁ = (1.9, −3.8), w = (−0.19, 1.38).
        // Step 2: v = (1.4, −1.3), step = (0.5 + 1.26, 0.5 − 1.17) = (1.76, −0.67), w = (−0.366, 1.447).
        var sgd = new Sgd(Parameters([0, 1]), momentum: 0.9f, nesterov: true);
        Step(sgd, 0.1f, [1, -2]);
        AssertClose([-0.19, 1.38], sgd.Parameters["fc.weight"].Data, 1e-6, "after step 1");
        Step(sgd, 0.1f, [0.5f, 0.5f]);
        AssertClose([-0.366, 1.447], sgd.Parameters["fc.weight"].Data, 1e-6, "after step 2");
        AssertClose([1.4, -1.3], sgd.State["fc.weight.momentum"], 1e-6, "velocity after step 2");
    }

    [Fact]
    public void WeightDecayIsAddedToTheGradientOfWeightsOnly()
    {
        // λ 0.5, μ 0.9 (no Nesterov), lr 0.1, w = (1, −2), g = (0, 0.5):
        // g + λw = (0.5, −0.5) = v, w = (0.95, −1.95). The bias (value 3, gradient 0) and γ do not move.
        var sgd = new Sgd(Parameters([1, -2], bias: [3, 3]), momentum: 0.9f, nesterov: false) { WeightDecay = 0.5f };
        sgd.Parameters["bn.weight"].Data.AsSpan().Fill(1);
        Step(sgd, 0.1f, [0, 0.5f]);
        AssertClose([0.95, -1.95], sgd.Parameters["fc.weight"].Data, 1e-6, "decayed weight");
        Assert.Equal([3f, 3f], sgd.Parameters["fc.bias"].Data);
        Assert.Equal([1f, 1f], sgd.Parameters["bn.weight"].Data);

        // Step 2: g + λw = (0 + 0.5·0.95, 0.5 − 0.5·1.95) = (0.475, −0.475);
        // v = 0.9·(0.5, −0.5) + (0.475, −0.475) = (0.925, −0.925); w = (0.8575, −1.8575).
        Step(sgd, 0.1f, [0, 0.5f]);
        AssertClose([0.8575, -1.8575], sgd.Parameters["fc.weight"].Data, 1e-6, "decayed weight after step 2");
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adamw")]
    public void OnARealNetworkWeightDecayTouchesConvAndDenseWeightsButNotBiasesOrBatchNorm(string kind)
    {
        var net = new OptimizerTestNet();
        foreach (var p in net.Parameters)
        {
            p.Data.AsSpan().Fill(1f);
        }

        // Zero gradients: only the decay moves anything. SGD: w −= lr·λ·w = 0.9. AdamW: m = v = 0 so the
        // Adam step is 0 and w −= lr·λ·w = 0.9 as well.
        Optimizer optimizer = kind == "sgd"
            ? new Sgd(net.Parameters, momentum: 0, nesterov: false) { WeightDecay = 0.1f }
            : new AdamW(net.Parameters) { WeightDecay = 0.1f };
        optimizer.Update(1f);

        var decayed = net.Parameters.Where(p => p.Data[0] != 1f).Select(p => p.Name).ToArray();
        Assert.Equal(["conv.weight", "fc.weight"], decayed);
        Assert.All(decayed, name => Assert.All(net.Parameters[name].Data, v => Assert.Equal(0.9f, v, 1e-6f)));
        Assert.Equal(["conv.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "fc.bias"], net.Parameters.Where(p => p.Data[0] == 1f).Select(p => p.Name));
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adamw")]
    public void UpdateClearsEveryGradient(string kind)
    {
        var net = new OptimizerTestNet();
        Initializer.HeUniform(net, 1);
        Optimizer optimizer = kind == "sgd" ? new Sgd(net.Parameters) { WeightDecay = 1e-4f } : new AdamW(net.Parameters);
        var trainable = net.Parameters.Where(p => p.Spec.Trainable).ToArray();
        Assert.Equal(6, trainable.Length);
        foreach (var p in trainable)
        {
            p.Gradient.AsSpan().Fill(0.25f);
        }

        optimizer.Update(0.01f);

        Assert.All(trainable, p => Assert.All(p.Gradient, g => Assert.Equal(0f, g)));
        Assert.All(net.Parameters.Where(p => !p.Spec.Trainable), p => Assert.Empty(p.Gradient));
    }

    [Fact]
    public void AdamWBiasCorrectionMakesAConstantGradientMoveEachWeightByTheLearningRate()
    {
        // With a constant gradient g, m̂ₜ = g and v̂ₜ = g² at every step (that is what the bias correction is
        // for), so each step moves w by lr·g/(|g| + ε) ≈ lr·sign(g). Without the correction step 1 would move
        // by lr·(1 − β₁)/√(1 − β₂) ≈ 3.16·lr.
        var adam = new AdamW(Parameters([1, -2]));
        Step(adam, 0.01f, [0.5f, -4f], biasGradient: [2e-3f, 0]);
        AssertClose([0.99, -1.99], adam.Parameters["fc.weight"].Data, 1e-6, "after step 1");
        AssertClose([-0.01, 0], adam.Parameters["fc.bias"].Data, 1e-6, "bias after step 1");
        Step(adam, 0.01f, [0.5f, -4f], biasGradient: [2e-3f, 0]);
        AssertClose([0.98, -1.98], adam.Parameters["fc.weight"].Data, 1e-6, "after step 2");
        AssertClose([-0.02, 0], adam.Parameters["fc.bias"].Data, 1e-6, "bias after step 2");
    }

    [Fact]
    public void AdamWFollowsTheFormulaOverTwoSteps()
    {
        const double lr = 0.01, beta1 = 0.8, beta2 = 0.99, eps = 1e-3, decay = 0.1;
        double[] w = [1, -2];
        double[][] gradients = [[0.5, -1], [-0.25, 2]];
        var adam = new AdamW(Parameters([1, -2]), (float)beta1, (float)beta2, (float)eps) { WeightDecay = (float)decay };

        // Reference in double: PyTorch's AdamW (decoupled decay w −= lr·λ·w, then the Adam step).
        double[] m = [0, 0], v = [0, 0];
        for (var t = 1; t <= 2; t++)
        {
            var g = gradients[t - 1];
            for (var i = 0; i < 2; i++)
            {
                m[i] = (beta1 * m[i]) + ((1 - beta1) * g[i]);
                v[i] = (beta2 * v[i]) + ((1 - beta2) * g[i] * g[i]);
                var mHat = m[i] / (1 - Math.Pow(beta1, t));
                var vHat = v[i] / (1 - Math.Pow(beta2, t));
                w[i] = (w[i] * (1 - (lr * decay))) - (lr * mHat / (Math.Sqrt(vHat) + eps));
            }

            Step(adam, (float)lr, [.. g.Select(x => (float)x)]);
            AssertClose(w, adam.Parameters["fc.weight"].Data, 2e-6, $"weight after step {t}");
            AssertClose(m, adam.State["fc.weight.exp_avg"], 1e-6, $"exp_avg after step {t}");
            AssertClose(v, adam.State["fc.weight.exp_avg_sq"], 1e-6, $"exp_avg_sq after step {t}");
        }
    }

    [Fact]
    public void StateIsNamedPerTrainableParameter()
    {
        var net = new OptimizerTestNet();
        Initializer.HeUniform(net, 2);
        string[] trainable = ["conv.weight", "conv.bias", "bn.weight", "bn.bias", "fc.weight", "fc.bias"];

        var sgd = new Sgd(net.Parameters);
        Assert.Equal(["momentum"], sgd.StateNames);
        sgd.Update(0.1f);
        Assert.Equal(trainable.Select(n => n + ".momentum"), sgd.State.Keys);

        var adam = new AdamW(net.Parameters);
        Assert.Equal(["exp_avg", "exp_avg_sq"], adam.StateNames);
        adam.Update(0.1f);
        Assert.Equal(trainable.SelectMany(n => new[] { n + ".exp_avg", n + ".exp_avg_sq" }), adam.State.Keys);
        Assert.All(adam.State, s => Assert.Equal(net.Parameters[s.Key[..s.Key.LastIndexOf('.')]].Length, s.Value.Length));
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adamw")]
    public void LoadStateRoundTripsSoTheNextStepIsIdentical(string kind)
    {
        Optimizer Create(ParameterSet p) => kind == "sgd" ? new Sgd(p) { WeightDecay = 0.01f } : new AdamW(p) { WeightDecay = 0.01f };
        void Gradients(INetwork n, int seed)
        {
            var r = new Random(seed);
            foreach (var p in n.Parameters.Where(p => p.Spec.Trainable))
            {
                for (var i = 0; i < p.Length; i++)
                {
                    p.Gradient[i] = (float)(r.NextDouble() - 0.5);
                }
            }
        }

        var original = new OptimizerTestNet();
        Initializer.HeUniform(original, 3);
        var first = Create(original.Parameters);
        for (var s = 0; s < 3; s++)
        {
            Gradients(original, s);
            first.Update(0.05f);
        }

        // A fresh network and optimizer restored from the weights, the state tensors and the step count.
        var copy = new OptimizerTestNet();
        foreach (var p in original.Parameters)
        {
            p.Data.CopyTo(copy.Parameters[p.Name].Data, 0);
        }

        var second = Create(copy.Parameters);
        foreach (var (name, values) in first.State)
        {
            second.LoadState(name, values);
        }

        second.Step = first.Step;
        Assert.Equal(first.State.Keys, second.State.Keys);

        Gradients(original, 10);
        Gradients(copy, 10);
        first.Update(0.05f);
        second.Update(0.05f);
        AssertBitIdentical(original, copy, "after one more step");
        Assert.All(first.State, s => Assert.Equal(s.Value, second.State[s.Key]));
    }

    [Fact]
    public void LoadStateRejectsStateThatDoesNotFit()
    {
        var sgd = new Sgd(new OptimizerTestNet().Parameters);

        var e = Assert.Throws<ArgumentException>(() => sgd.LoadState("conv2.weight.momentum", new float[18]));
        Assert.Contains("Optimizer state 'conv2.weight.momentum' (18 values) does not belong to any trainable parameter", e.Message);
        e = Assert.Throws<ArgumentException>(() => sgd.LoadState("bn.running_mean.momentum", new float[2]));
        Assert.Contains("does not belong to any trainable parameter", e.Message);
        e = Assert.Throws<ArgumentException>(() => sgd.LoadState("momentum", new float[2]));
        Assert.Contains("does not belong to any trainable parameter", e.Message);
        e = Assert.Throws<ArgumentException>(() => sgd.LoadState("conv.weight.momentum", new float[17]));
        Assert.Contains("has 17 values but parameter 'conv.weight' has 18", e.Message);

        // State of another optimizer (e.g. a checkpoint written with AdamW) is not silently ignored.
        e = Assert.Throws<ArgumentException>(() => sgd.LoadState("conv.weight.exp_avg", new float[18]));
        Assert.Contains("Sgd keeps momentum, not 'exp_avg'", e.Message);
        var plain = new Sgd(new OptimizerTestNet().Parameters, momentum: 0);
        e = Assert.Throws<ArgumentException>(() => plain.LoadState("conv.weight.momentum", new float[18]));
        Assert.Contains("Sgd keeps no state, not 'momentum'", e.Message);
        Assert.Empty(sgd.State);
    }

    [Theory]
    [InlineData(-0.1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void ABadLearningRateThrowsAndChangesNothing(float rate)
    {
        var sgd = new Sgd(Parameters([1, -2]));
        sgd.Parameters["fc.weight"].Gradient[0] = 1;

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => sgd.Update(rate));
        Assert.Equal("learningRate", e.ParamName);
        Assert.Contains("The learning rate must be a finite non-negative number", e.Message);
        Assert.Equal(0, sgd.Step);
        Assert.Equal([1f, -2f], sgd.Parameters["fc.weight"].Data);
        Assert.Equal(1f, sgd.Parameters["fc.weight"].Gradient[0]);
    }

    [Fact]
    public void BadHyperparametersThrow()
    {
        var p = Parameters([1, 2]);
        Assert.Contains("Momentum must be in [0, 1)", Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(p, momentum: 1f)).Message);
        Assert.Contains("Momentum must be in [0, 1)", Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(p, momentum: -0.5f)).Message);
        Assert.Contains("Weight decay must be a finite non-negative number", Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(p) { WeightDecay = -1e-4f }).Message);
        Assert.Contains("Weight decay must be a finite non-negative number", Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW(p) { WeightDecay = float.NaN }).Message);
        Assert.Contains("β₁ must be in [0, 1)", Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW(p, beta1: 1f)).Message);
        Assert.Contains("β₂ must be in [0, 1)", Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW(p, beta2: float.NaN)).Message);
        Assert.Contains("ε must be a positive finite number", Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW(p, epsilon: 0)).Message);
        Assert.Throws<ArgumentNullException>(() => new Sgd(null!));
    }
}
