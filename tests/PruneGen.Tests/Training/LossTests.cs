using PruneGen.Training;
using static PruneGen.Tests.Training.TrainingTestSupport;

namespace PruneGen.Tests.Training;

/// <summary>Softmax cross-entropy and mean squared error: values, gradients, stability, label smoothing, errors.</summary>
[Trait("Category", "Training")]
public class LossTests
{
    // Two samples, three classes. Sample 0: logits (1, 2, 3), label 2: p = (e⁻², e⁻¹, 1)/(1 + e⁻¹ + e⁻²)
    // = (0.0900306, 0.2447285, 0.6652410), loss −ln 0.6652410 = 0.4076060. Sample 1: equal logits, label 0:
    // p = ⅓ each, loss ln 3 = 1.0986123. Mean 0.7531091; gradient (p − onehot)/2.
    private static readonly float[] Logits = [1, 2, 3, 0, 0, 0];
    private static readonly int[] Labels = [2, 0];

    [Fact]
    public void CrossEntropyMatchesAHandComputedCase()
    {
        var gradient = new float[6];
        var loss = Losses.SoftmaxCrossEntropy(Logits, Labels, 3, gradient);

        Assert.Equal(0.7531091265562452, loss, 1e-6);
        AssertClose([0.0900305732 / 2, 0.2447284711 / 2, -0.3347590442 / 2, -2.0 / 3 / 2, 1.0 / 3 / 2, 1.0 / 3 / 2], gradient, 1e-7, "gradient");

        // The gradient of a mean over softmax rows: each row sums to zero.
        Assert.Equal(0, gradient[0] + gradient[1] + gradient[2], 1e-7);
    }

    [Fact]
    public void LabelSmoothingMixesTheUniformTarget()
    {
        // ε = 0.1: target (1 − ε + ε/3) on the label, ε/3 elsewhere, so loss = (1 − ε)·CE + ε·mean(−log p):
        // sample 0: 0.9·0.4076060 + 0.1·(2.4076060 + 1.4076060 + 0.4076060)/3 = 0.5076060;
        // sample 1 (uniform p): ln 3 whatever ε. Gradient (p − target)/batch.
        var gradient = new float[6];
        var loss = Losses.SoftmaxCrossEntropy(Logits, Labels, 3, gradient, labelSmoothing: 0.1f);

        Assert.Equal((0.5076059644443806 + 1.0986122886681098) / 2, loss, 1e-6);
        var on = 1 - 0.1 + (0.1 / 3);
        var off = 0.1 / 3;
        AssertClose(
            [(0.0900305732 - off) / 2, (0.2447284711 - off) / 2, (0.6652409558 - on) / 2, (1.0 / 3 - on) / 2, (1.0 / 3 - off) / 2, (1.0 / 3 - off) / 2],
            gradient,
            1e-7,
            "smoothed gradient");
    }

    [Fact]
    public void CrossEntropyIsStableForHugeLogits()
    {
        var gradient = new float[3];

        // exp(1e30) overflows any float or double; subtracting the maximum first keeps everything finite.
        var loss = Losses.SoftmaxCrossEntropy([1e30f, 0f, -1e30f], [0], 3, gradient);
        Assert.Equal(0f, loss);
        Assert.Equal([0f, 0f, 0f], gradient);

        // The wrong class by 1e30: the loss is 1e30 (finite), the gradient pushes it with full force.
        loss = Losses.SoftmaxCrossEntropy([1e30f, 0f, -1e30f], [1], 3, gradient);
        Assert.Equal(1e30f, loss, 1e24f);
        Assert.Equal([1f, -1f, 0f], gradient);

        // Two equal huge logits: p = ½, ½, 0.
        loss = Losses.SoftmaxCrossEntropy([3e38f, 3e38f, 0f], [0], 3, gradient);
        Assert.Equal(Math.Log(2), loss, 1e-6);
        Assert.Equal([-0.5f, 0.5f, 0f], gradient);
    }

    [Fact]
    public void CrossEntropyOfNaNLogitsIsNaN()
    {
        // The trainer's divergence check relies on this.
        var loss = Losses.SoftmaxCrossEntropy([0f, float.NaN, 1f], [0], 3, new float[3]);
        Assert.True(float.IsNaN(loss));
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.2f)]
    public void CrossEntropyGradientIsTheFiniteDifferenceOfTheLoss(float smoothing)
    {
        const int batch = 3, classes = 5;
        var random = new Random(7);
        var logits = Enumerable.Range(0, batch * classes).Select(_ => (float)((random.NextDouble() * 6) - 3)).ToArray();
        int[] labels = [4, 0, 2];
        var gradient = new float[logits.Length];
        Losses.SoftmaxCrossEntropy(logits, labels, classes, gradient, smoothing);

        var scratch = new float[logits.Length];
        foreach (var i in new[] { 0, 4, 6, 7, 12, 14 })
        {
            var x = logits[i];
            var (up, down) = (x + 1e-2f, x - 1e-2f);
            logits[i] = up;
            var lossUp = Losses.SoftmaxCrossEntropy(logits, labels, classes, scratch, smoothing);
            logits[i] = down;
            var lossDown = Losses.SoftmaxCrossEntropy(logits, labels, classes, scratch, smoothing);
            logits[i] = x;
            var numeric = ((double)lossUp - lossDown) / ((double)up - down);
            Assert.True(Math.Abs(numeric - gradient[i]) < 2e-4, $"logit {i}: analytic {gradient[i]}, finite difference {numeric}.");
        }
    }

    [Fact]
    public void CrossEntropyRejectsBadArguments()
    {
        var gradient = new float[6];

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Losses.SoftmaxCrossEntropy(Logits, [2, 3], 3, gradient));
        Assert.Contains("Label 3 of sample 1 is outside 0..2", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => Losses.SoftmaxCrossEntropy(Logits, [-1, 0], 3, gradient));
        Assert.Contains("Label -1 of sample 0 is outside 0..2", e.Message);

        var a = Assert.Throws<ArgumentException>(() => Losses.SoftmaxCrossEntropy(Logits.AsSpan(0, 5), Labels, 3, gradient));
        Assert.Contains("2 labels × 3 classes need exactly 6 logits", a.Message);
        Assert.Contains("got 5 logits", a.Message);

        // More logits than labels would silently drop a sample.
        a = Assert.Throws<ArgumentException>(() => Losses.SoftmaxCrossEntropy(Logits, [2], 3, gradient));
        Assert.Contains("1 labels × 3 classes need exactly 3 logits", a.Message);

        a = Assert.Throws<ArgumentException>(() => Losses.SoftmaxCrossEntropy(Logits, Labels, 3, new float[5]));
        Assert.Contains("5 gradient floats", a.Message);

        a = Assert.Throws<ArgumentException>(() => Losses.SoftmaxCrossEntropy([], [], 3, gradient));
        Assert.Contains("no labels", a.Message);

        e = Assert.Throws<ArgumentOutOfRangeException>(() => Losses.SoftmaxCrossEntropy([], [], 0, gradient));
        Assert.Contains("at least one class", e.Message);

        foreach (var smoothing in new[] { -0.1f, 1f, float.NaN })
        {
            e = Assert.Throws<ArgumentOutOfRangeException>(() => Losses.SoftmaxCrossEntropy(Logits, Labels, 3, gradient, smoothing));
            Assert.Equal("labelSmoothing", e.ParamName);
            Assert.Contains("Label smoothing must be in [0, 1)", e.Message);
        }

        // A larger (reused) gradient buffer is fine; only its first batch × classes floats are written.
        var big = Enumerable.Repeat(42f, 8).ToArray();
        Losses.SoftmaxCrossEntropy(Logits, Labels, 3, big);
        Assert.Equal([42f, 42f], big[6..]);
    }

    [Fact]
    public void MeanSquaredErrorMatchesAHandComputedCase()
    {
        // d = (1, 0, −2, 0.5): mean d² = 5.25 / 4 = 1.3125, gradient 2d/4.
        var gradient = new float[4];
        var loss = Losses.MeanSquaredError([1, 2, 3, 4], [0, 2, 5, 3.5f], gradient);

        Assert.Equal(1.3125f, loss);
        Assert.Equal([0.5f, 0f, -1f, 0.25f], gradient);
    }

    [Fact]
    public void MeanSquaredErrorGradientIsTheFiniteDifferenceOfTheLoss()
    {
        var random = new Random(3);
        var prediction = Enumerable.Range(0, 7).Select(_ => (float)random.NextDouble()).ToArray();
        var target = Enumerable.Range(0, 7).Select(_ => (float)random.NextDouble()).ToArray();
        var gradient = new float[7];
        Losses.MeanSquaredError(prediction, target, gradient);

        var scratch = new float[7];
        for (var i = 0; i < 7; i += 3)
        {
            var x = prediction[i];
            var (up, down) = (x + 1e-2f, x - 1e-2f);
            prediction[i] = up;
            var lossUp = Losses.MeanSquaredError(prediction, target, scratch);
            prediction[i] = down;
            var lossDown = Losses.MeanSquaredError(prediction, target, scratch);
            prediction[i] = x;
            var numeric = ((double)lossUp - lossDown) / ((double)up - down);
            Assert.True(Math.Abs(numeric - gradient[i]) < 1e-4, $"element {i}: analytic {gradient[i]}, finite difference {numeric}.");
        }
    }

    [Fact]
    public void MeanSquaredErrorRejectsBadLengths()
    {
        var e = Assert.Throws<ArgumentException>(() => Losses.MeanSquaredError([1, 2, 3], [1, 2], new float[3]));
        Assert.Contains("prediction (3), target (2) and gradient (3) lengths must agree", e.Message);
        e = Assert.Throws<ArgumentException>(() => Losses.MeanSquaredError([1, 2, 3], [1, 2, 3], new float[2]));
        Assert.Contains("gradient (2)", e.Message);
        e = Assert.Throws<ArgumentException>(() => Losses.MeanSquaredError([], [], new float[1]));
        Assert.Contains("the prediction is empty", e.Message);
    }
}
