using System;

namespace PruneGen.Training;

/// <summary>A learning rate as a function of the optimizer step (0-based) within a run of <c>totalSteps</c>.</summary>
public abstract class LearningRateSchedule
{
    /// <summary>The learning rate at <paramref name="step"/>.</summary>
    public abstract float At(long step, long totalSteps);

    /// <summary>A constant rate.</summary>
    public static LearningRateSchedule Constant(float rate) => new ConstantSchedule(rate);

    /// <summary>Multiplies <paramref name="rate"/> by <paramref name="gamma"/> every <paramref name="stepSize"/> steps.</summary>
    public static LearningRateSchedule StepDecay(float rate, long stepSize, float gamma) => new StepSchedule(rate, stepSize, gamma);

    /// <summary>Cosine annealing from <paramref name="rate"/> to <paramref name="minimum"/> over the run.</summary>
    public static LearningRateSchedule Cosine(float rate, float minimum = 0f) => new CosineSchedule(rate, minimum);

    /// <summary>Rises linearly from 0 over <paramref name="warmupSteps"/> steps, then follows <paramref name="then"/> over the remaining steps.</summary>
    public static LearningRateSchedule Warmup(long warmupSteps, LearningRateSchedule then) => new WarmupSchedule(warmupSteps, then);

    private sealed class ConstantSchedule(float rate) : LearningRateSchedule
    {
        public override float At(long step, long totalSteps) => rate;
    }

    private sealed class StepSchedule(float rate, long stepSize, float gamma) : LearningRateSchedule
    {
        public override float At(long step, long totalSteps) => rate * MathF.Pow(gamma, step / Math.Max(1, stepSize));
    }

    private sealed class CosineSchedule(float rate, float minimum) : LearningRateSchedule
    {
        public override float At(long step, long totalSteps)
        {
            // A run of one step (or none left after warm-up) stays at the peak rate.
            var t = totalSteps <= 1 ? 0.0 : Math.Clamp((double)step / (totalSteps - 1), 0, 1);
            return (float)(minimum + ((rate - minimum) * 0.5 * (1 + Math.Cos(Math.PI * t))));
        }
    }

    private sealed class WarmupSchedule(long warmupSteps, LearningRateSchedule then) : LearningRateSchedule
    {
        public override float At(long step, long totalSteps) => step < warmupSteps
            ? then.At(0, Math.Max(1, totalSteps - warmupSteps)) * (step + 1) / warmupSteps
            : then.At(step - warmupSteps, Math.Max(1, totalSteps - warmupSteps));
    }
}
