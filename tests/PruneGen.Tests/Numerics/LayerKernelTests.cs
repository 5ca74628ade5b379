using PruneGen.Kernels;

namespace PruneGen.Tests.Numerics;

/// <summary>Edge cases of the element-wise kernels that random small-weight networks never reach.</summary>
public class LayerKernelTests
{
    // Regression: ElementwiseKernels.Softmax called TensorPrimitives.SoftMax, which computes
    // e^x / Σ e^x without subtracting the maximum and returned NaN for logits above 88.7 (e^x = ∞)
    // or all below −103 (Σ e^x = 0).
    [Theory]
    [InlineData(new float[] { 1000f, 999f, 0f })]
    [InlineData(new float[] { 89f, 88f })]
    [InlineData(new float[] { -1000f, -1001f, -1002f })]
    [InlineData(new float[] { 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 200f })]
    public void SoftmaxIsFiniteForLargeLogits(float[] logits)
    {
        var y = new float[logits.Length];
        ElementwiseKernels.Softmax(logits, y, logits.Length, 1);
        var max = logits.Max();
        var sum = logits.Sum(v => Math.Exp(v - max));
        for (var i = 0; i < y.Length; i++)
        {
            var expected = Math.Exp(logits[i] - max) / sum;
            Assert.True(Math.Abs(y[i] - expected) <= 1e-6, $"softmax[{i}] = {y[i]}, expected {expected}");
        }
    }

    [Fact]
    public void SoftmaxHandlesEachSampleOfABatchOnItsOwn()
    {
        // Sample 0 has huge logits, sample 1 tiny ones: each is shifted by its own maximum.
        float[] x = [500f, 499f, 498f, -500f, -501f, -502f];
        var y = new float[6];
        ElementwiseKernels.Softmax(x, y, 3, 2);
        double[] p = [1 / (1 + Math.Exp(-1) + Math.Exp(-2)), Math.Exp(-1) / (1 + Math.Exp(-1) + Math.Exp(-2)), Math.Exp(-2) / (1 + Math.Exp(-1) + Math.Exp(-2))];
        for (var i = 0; i < 6; i++)
        {
            Assert.True(Math.Abs(y[i] - p[i % 3]) <= 1e-6, $"softmax[{i}] = {y[i]}, expected {p[i % 3]}");
        }
    }

    [Fact]
    public void GeneratedSoftmaxStaysFiniteWhenLogitsAreLarge()
    {
        // The same bug seen through a generated network: scale the input so NumDenseWide's logits reach
        // the hundreds. Float logits of that size carry ~1e-5 absolute rounding, so compare the
        // probabilities loosely; the point is that they are finite, sum to 1 and agree with the reference.
        var net = new NumDenseWide();
        Numerics.Randomize(net, seed: 11);
        var input = new float[] { 400f, -300f, 250f };
        var ours = new float[3 * NumDenseWide.OutputSize];
        net.Forward(input, ours, 3);
        var expected = Reference.ScalarReference.Forward(NumDenseWide.Graph, net.Parameters, input, 3);
        var logits = Reference.ScalarReference.ForwardLayers(NumDenseWide.Graph, net.Parameters, input, 3)[^2];
        Assert.True(logits.Max(Math.Abs) > 100, $"test setup: the logits should be large, max |logit| = {logits.Max(Math.Abs)}");
        Assert.All(ours, v => Assert.True(float.IsFinite(v), "softmax produced a non-finite probability"));
        for (var n = 0; n < 3; n++)
        {
            Assert.Equal(1.0, ours.Skip(n * NumDenseWide.OutputSize).Take(NumDenseWide.OutputSize).Sum(v => (double)v), 1e-5);
        }

        Numerics.AssertClose(ours, expected, "NumDenseWide with large logits", tolerance: 1e-3);
    }

    /// <summary>
    /// The passes split across the threads from 256 K floats: every element once, the parts' seams included (a length
    /// that is no multiple of the vector, just above and well above the split threshold).
    /// </summary>
    [Theory]
    [InlineData(262_145)]
    [InlineData(600_007)]
    public void LargeElementwisePassesMatchAScalarLoop(int length)
    {
        var random = new Random(length);
        float[] Fill() => Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        float[] a = Fill(), b = Fill(), start = Fill();

        var y = new float[length];
        ElementwiseKernels.ReLU(a, y);
        Assert.Equal(a.Select(v => Math.Max(v, 0f)), y);

        ElementwiseKernels.Add(a, b, y);
        Assert.Equal(a.Zip(b, (p, q) => p + q), y);

        var dx = (float[])start.Clone();
        ElementwiseKernels.Accumulate(b, dx);
        Assert.Equal(start.Zip(b, (p, q) => p + q), dx);

        dx = (float[])start.Clone();
        ElementwiseKernels.ReLUBackward(a, b, dx);
        Assert.Equal(Enumerable.Range(0, length).Select(i => a[i] > 0 ? start[i] + b[i] : start[i]), dx);
    }
}
