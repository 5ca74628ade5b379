using PruneGen.Training;

namespace PruneGen.Tests.Training;

/// <summary>Learning-rate schedules: exact values at the points that define them.</summary>
[Trait("Category", "Training")]
public class ScheduleTests
{
    [Fact]
    public void ConstantIsConstant()
    {
        var schedule = LearningRateSchedule.Constant(0.1f);
        Assert.Equal(0.1f, schedule.At(0, 100));
        Assert.Equal(0.1f, schedule.At(99, 100));
        Assert.Equal(0.1f, schedule.At(12345, 1));
    }

    [Fact]
    public void StepDecayMultipliesByGammaEveryStepSizeSteps()
    {
        var schedule = LearningRateSchedule.StepDecay(0.1f, stepSize: 10, gamma: 0.5f);
        Assert.Equal(0.1f, schedule.At(0, 100));
        Assert.Equal(0.1f, schedule.At(9, 100));
        Assert.Equal(0.05f, schedule.At(10, 100));
        Assert.Equal(0.05f, schedule.At(19, 100));
        Assert.Equal(0.025f, schedule.At(25, 100));
        Assert.Equal(0.1f / 512, schedule.At(99, 100));

        // A γ that is not a power of two: rate·γ^k rounded once.
        var tenth = LearningRateSchedule.StepDecay(1f, 3, 0.1f);
        Assert.Equal((float)Math.Pow(0.1f, 2), tenth.At(6, 10));
    }

    [Fact]
    public void CosineGoesFromTheRateToTheMinimumOverTheRun()
    {
        var schedule = LearningRateSchedule.Cosine(1f);
        Assert.Equal(1f, schedule.At(0, 101));
        Assert.Equal((float)(0.5 * (1 + Math.Cos(Math.PI / 4))), schedule.At(25, 101));
        Assert.Equal(0.5f, schedule.At(50, 101));
        Assert.Equal(0f, schedule.At(100, 101));
        Assert.Equal(0f, schedule.At(150, 101)); // clamped past the end

        var withMinimum = LearningRateSchedule.Cosine(0.1f, minimum: 0.001f);
        Assert.Equal(0.1f, withMinimum.At(0, 11));
        Assert.Equal((float)(0.001f + ((0.1f - (double)0.001f) / 2)), withMinimum.At(5, 11));
        Assert.Equal(0.001f, withMinimum.At(10, 11));

        // A one-step run is all start.
        Assert.Equal(0.1f, withMinimum.At(0, 1));
    }

    [Fact]
    public void WarmupRisesLinearlyThenHandsOver()
    {
        var schedule = LearningRateSchedule.Warmup(4, LearningRateSchedule.Constant(0.4f));
        Assert.Equal(0.1f, schedule.At(0, 100));
        Assert.Equal(0.2f, schedule.At(1, 100));
        Assert.Equal(0.3f, schedule.At(2, 100), 1e-7f);
        Assert.Equal(0.4f, schedule.At(3, 100));
        Assert.Equal(0.4f, schedule.At(4, 100));
        Assert.Equal(0.4f, schedule.At(99, 100));

        // Then a cosine over the remaining 101 steps: its start at step 10, its middle at 60, its end at 110.
        var cosine = LearningRateSchedule.Warmup(10, LearningRateSchedule.Cosine(1f));
        Assert.Equal(0.1f, cosine.At(0, 111));
        Assert.Equal(0.5f, cosine.At(4, 111));
        Assert.Equal(1f, cosine.At(9, 111));
        Assert.Equal(1f, cosine.At(10, 111));
        Assert.Equal(0.5f, cosine.At(60, 111));
        Assert.Equal(0f, cosine.At(110, 111));

        // Rises monotonically to the start of what follows, even when only one step remains after it.
        var shortRun = LearningRateSchedule.Warmup(4, LearningRateSchedule.Cosine(1f));
        Assert.Equal([0.25f, 0.5f, 0.75f, 1f, 1f], Enumerable.Range(0, 5).Select(s => shortRun.At(s, 5)));

        // No warm-up is the schedule itself.
        Assert.Equal(LearningRateSchedule.Cosine(1f).At(7, 20), LearningRateSchedule.Warmup(0, LearningRateSchedule.Cosine(1f)).At(7, 20));
    }

    [Fact]
    public void BadArgumentsThrow()
    {
        Assert.Contains("A learning rate must be a finite non-negative number", Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.Constant(-1f)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.Constant(float.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.Cosine(float.PositiveInfinity));
        Assert.Equal("minimum", Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.Cosine(1f, -1f)).ParamName);
        Assert.Equal("stepSize", Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.StepDecay(1f, 0, 0.5f)).ParamName);
        Assert.Contains("The decay factor γ must be a positive finite number", Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.StepDecay(1f, 10, 0f)).Message);
        Assert.Equal("warmupSteps", Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.Warmup(-1, LearningRateSchedule.Constant(1f))).ParamName);
        Assert.Throws<ArgumentNullException>(() => LearningRateSchedule.Warmup(5, null!));
    }
}
