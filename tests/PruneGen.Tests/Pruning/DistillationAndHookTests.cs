using PruneGen.Pruning;
using PruneGen.Training;
using static PruneGen.Tests.Pruning.PruningTestSupport;

namespace PruneGen.Tests.Pruning;

/// <summary>The distillation loss and the trainer hooks pruning relies on while fine-tuning.</summary>
public sealed class DistillationAndHookTests
{
    private const int Classes = 4;
    private static readonly float[] Student = [0.3f, -1.2f, 2.0f, 0.5f, -0.7f, 0.1f, 0.9f, -2.2f];
    private static readonly float[] Teacher = [1.5f, -0.4f, 0.2f, 0.8f, 0.6f, -1.0f, 2.4f, 0.0f];
    private static readonly int[] Labels = [2, 0];

    [Theory]
    [InlineData(1f, 0.5f)]
    [InlineData(4f, 0.7f)]
    [InlineData(2.5f, 1f)]
    public void DistillationGradientMatchesFiniteDifferences(float temperature, float alpha)
    {
        var gradient = new float[Student.Length];
        var scratch = new float[Student.Length];
        Losses.Distillation(Student, Teacher, Labels, Classes, gradient, temperature, alpha);
        const float h = 1e-2f;
        for (var i = 0; i < Student.Length; i++)
        {
            var plus = (float[])Student.Clone();
            var minus = (float[])Student.Clone();
            plus[i] += h;
            minus[i] -= h;
            var numeric = (Losses.Distillation(plus, Teacher, Labels, Classes, scratch, temperature, alpha) - (double)Losses.Distillation(minus, Teacher, Labels, Classes, scratch, temperature, alpha)) / (2 * h);
            Assert.True(Math.Abs(numeric - gradient[i]) <= 5e-4, $"T={temperature}, α={alpha}, logit {i}: analytic {gradient[i]:R}, numeric {numeric:R}");
        }
    }

    [Fact]
    public void DistillationWithAlphaOneIsTSquaredKlDivergence()
    {
        const double t = 3;
        double expected = 0;
        for (var n = 0; n < 2; n++)
        {
            var p = Softmax(Student.AsSpan(n * Classes, Classes), t);
            var q = Softmax(Teacher.AsSpan(n * Classes, Classes), t);
            expected += Enumerable.Range(0, Classes).Sum(i => q[i] * Math.Log(q[i] / p[i]));
        }

        expected = t * t * expected / 2;
        var loss = Losses.Distillation(Student, Teacher, Labels, Classes, new float[8], (float)t, 1f);
        Assert.Equal(expected, loss, 1e-5);
    }

    private static double[] Softmax(ReadOnlySpan<float> z, double t)
    {
        var e = new double[z.Length];
        for (var i = 0; i < z.Length; i++)
        {
            e[i] = Math.Exp(z[i] / t);
        }

        var sum = e.Sum();
        return [.. e.Select(v => v / sum)];
    }

    [Fact]
    public void DistillationWithAlphaZeroIsSoftmaxCrossEntropy()
    {
        var expected = new float[8];
        var actual = new float[8];
        var ce = Losses.SoftmaxCrossEntropy(Student, Labels, Classes, expected);
        var kd = Losses.Distillation(Student, Teacher, Labels, Classes, actual, 4f, 0f);
        Assert.Equal(ce, kd);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void DistillationRejectsBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Losses.Distillation(Student, Teacher, Labels, Classes, new float[8], 0f, 0.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Losses.Distillation(Student, Teacher, Labels, Classes, new float[8], 2f, 1.5f));
        var e = Assert.Throws<ArgumentException>(() => Losses.Distillation(Student, Teacher.AsSpan(0, 4), Labels, Classes, new float[8]));
        Assert.Equal("Distillation: the teacher gave 4 logits for 8 student logits. (Parameter 'teacherLogits')", e.Message);
    }

    private static Trainer CreateTrainer(ITrainableNetwork net, Action? afterUpdate = null, Action<ParameterSet>? beforeUpdate = null, Distillation? distillation = null) =>
        new(net, new Sgd(net.Parameters, momentum: 0.9f), LearningRateSchedule.Constant(0.05f), new TrainingOptions { Epochs = 2, BatchSize = 8, Augmentation = PruneGen.Data.Augmentation.None, Seed = 3 })
        {
            AfterUpdate = afterUpdate,
            BeforeUpdate = beforeUpdate,
            Distillation = distillation,
        };

    [Fact]
    public void ReapplyingTheMaskAfterEachUpdateKeepsMaskedWeightsAtExactlyZero()
    {
        // Sigmoid: a removed channel still outputs 0.5, so its consumer columns get gradients and momentum.
        var plan = Plan(new PrSigmoid(), ("conv1", [0, 2, 4]), ("conv2", [1, 2, 3, 5]), ("fc", [0, 3, 4, 6]));
        (PrSigmoid Net, PruningMask Mask) Run(bool hook)
        {
            var net = new PrSigmoid();
            Numerics.Numerics.Randomize(net, 1);
            var mask = PruningMask.Create(PrSigmoid.Graph, plan);
            mask.Apply(net.Parameters);
            CreateTrainer(net, hook ? () => mask.Apply(net.Parameters) : null).Fit(RandomDataset(net, 32, 2));
            return (net, mask);
        }

        static long NonZeroMasked(INetwork net, PruningMask mask)
        {
            long n = 0;
            foreach (var cut in mask.Cuts.Where(c => net.Parameters[c.Parameter].Spec.Trainable))
            {
                var copy = (float[])net.Parameters[cut.Parameter].Data.Clone();
                var zeroed = (float[])copy.Clone();
                PruningMask.Zero(zeroed, cut);
                n += copy.Zip(zeroed).Count(p => p.First != p.Second);
            }

            return n;
        }

        var (free, freeMask) = Run(hook: false);
        Assert.True(NonZeroMasked(free, freeMask) > 0, "without the hook, training revives masked weights (so the test can fail)");

        var (masked, mask) = Run(hook: true);
        Assert.Equal(0, NonZeroMasked(masked, mask));
        var initial = new PrSigmoid();
        Numerics.Numerics.Randomize(initial, 1);
        Assert.NotEqual(initial.Parameters["conv2.weight"].Data, masked.Parameters["conv2.weight"].Data); // it trained
    }

    [Fact]
    public void BeforeUpdateRunsOncePerStepAndSparseTrainingAddsLambdaSignGamma()
    {
        var net = new PrVgg();
        Numerics.Numerics.Randomize(net, 1);
        net.Parameters["bn1.weight"].Data[2] = -0.5f;
        net.Parameters["bn1.weight"].Data[3] = 0;
        var l1 = SparseTraining.BatchNormL1(net, 0.25f);
        net.Parameters.ZeroGradients();
        l1(net.Parameters);
        Assert.Equal(net.Parameters["bn1.weight"].Data.Select(v => 0.25f * MathF.Sign(v)), net.Parameters["bn1.weight"].Gradient);
        Assert.All(net.Parameters["conv1.weight"].Gradient, g => Assert.Equal(0f, g));
        Assert.Throws<ArgumentOutOfRangeException>(() => SparseTraining.BatchNormL1(net, -1));

        var calls = 0;
        CreateTrainer(net, beforeUpdate: _ => calls++).Fit(RandomDataset(net, 20, 3));
        Assert.Equal(2 * 2, calls); // 2 epochs × ⌊20 / 8⌋ batches (the trainer drops the last partial batch)
    }

    [Fact]
    public void TrainingWithAlphaZeroDistillationEqualsTrainingOnLabels()
    {
        var data = RandomDataset(new PrVgg(), 16, 4);
        var teacher = new PrVgg();
        Numerics.Numerics.Randomize(teacher, 9);
        var plain = new PrVgg();
        var distilled = new PrVgg();
        Numerics.Numerics.Randomize(plain, 5);
        Numerics.Numerics.Randomize(distilled, 5);
        CreateTrainer(plain).Fit(data);
        CreateTrainer(distilled, distillation: new Distillation(teacher, 2f, 0f)).Fit(data);
        Training.TrainingTestSupport.AssertBitIdentical(plain, distilled, "α = 0 distillation vs labels only");

        var e = Assert.Throws<ArgumentException>(() => CreateTrainer(new PrVgg(), distillation: new Distillation(new PrTiny())).Fit(data));
        Assert.Equal("The teacher 'PrTiny' maps 3 → 2 floats, the student 'PrVgg' 128 → 3; they must agree.", e.Message);
    }
}
