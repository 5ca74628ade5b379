using System;

namespace PruneGen.Training;

/// <summary>A learning rate as a function of the optimizer step (0-based) within a run of <c>totalSteps</c>.</summary>
public abstract class LearningRateSchedule
{
    /// <summary>The learning rate at <paramref name="step"/>.</summary>
    public abstract float At(long step, long totalSteps);

    /// <summary>A constant rate.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rate"/> is negative, NaN or infinite.</exception>
    public static LearningRateSchedule Constant(float rate) => new ConstantSchedule(CheckRate(rate, nameof(rate)));

    /// <summary>Multiplies <paramref name="rate"/> by <paramref name="gamma"/> every <paramref name="stepSize"/> steps: <c>rate·γ^⌊step / stepSize⌋</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A bad rate, <paramref name="stepSize"/> &lt; 1, or γ not in (0, ∞).</exception>
    public static LearningRateSchedule StepDecay(float rate, long stepSize, float gamma)
    {
        CheckRate(rate, nameof(rate));
        ArgumentOutOfRangeException.ThrowIfLessThan(stepSize, 1);
        if (!(gamma > 0 && float.IsFinite(gamma)))
        {
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "The decay factor γ must be a positive finite number.");
        }

        return new StepSchedule(rate, stepSize, gamma);
    }

    /// <summary>
    /// Cosine annealing from <paramref name="rate"/> at step 0 to <paramref name="minimum"/> at the last step
    /// (<c>totalSteps − 1</c>): <c>min + (rate − min)·(1 + cos(π·step / (totalSteps − 1)))/2</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A rate is negative, NaN or infinite.</exception>
    public static LearningRateSchedule Cosine(float rate, float minimum = 0f) =>
        new CosineSchedule(CheckRate(rate, nameof(rate)), CheckRate(minimum, nameof(minimum)));

    /// <summary>
    /// Rises linearly over the first <paramref name="warmupSteps"/> steps (step s gets (s + 1)/warmupSteps of
    /// <paramref name="then"/>'s first rate, so the last warm-up step reaches it), then follows
    /// <paramref name="then"/>, started afresh, over the remaining <c>totalSteps − warmupSteps</c> steps.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="warmupSteps"/> is negative.</exception>
    public static LearningRateSchedule Warmup(long warmupSteps, LearningRateSchedule then)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        ArgumentNullException.ThrowIfNull(then);
        return new WarmupSchedule(warmupSteps, then);
    }

    private static float CheckRate(float rate, string name) => float.IsFinite(rate) && rate >= 0
        ? rate
        : throw new ArgumentOutOfRangeException(name, rate, "A learning rate must be a finite non-negative number.");

    private sealed class ConstantSchedule(float rate) : LearningRateSchedule
    {
        public override float At(long step, long totalSteps) => rate;
    }

    private sealed class StepSchedule(float rate, long stepSize, float gamma) : LearningRateSchedule
    {
        public override float At(long step, long totalSteps) => (float)(rate * Math.Pow(gamma, Math.Max(0, step) / stepSize));
    }

    private sealed class CosineSchedule(float rate, float minimum) : LearningRateSchedule
    {
        public override float At(long step, long totalSteps)
        {
            // A run of one step is all start: step 0 always gets the full rate (a warm-up ramps towards it).
            var t = totalSteps <= 1 ? 0.0 : Math.Clamp((double)step / (totalSteps - 1), 0, 1);
            return (float)(minimum + ((rate - (double)minimum) * 0.5 * (1 + Math.Cos(Math.PI * t))));
        }
    }

    private sealed class WarmupSchedule(long warmupSteps, LearningRateSchedule then) : LearningRateSchedule
    {
        public override float At(long step, long totalSteps)
        {
            var remaining = Math.Max(1, totalSteps - warmupSteps);
            return step < warmupSteps
                ? (float)((double)then.At(0, remaining) * (Math.Max(0, step) + 1) / warmupSteps)
                : then.At(step - warmupSteps, remaining);
        }
    }
}
