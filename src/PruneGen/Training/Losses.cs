using System;
using System.Numerics.Tensors;

namespace PruneGen.Training;

/// <summary>Loss functions: each returns the mean loss over the batch and writes ∂loss/∂prediction.</summary>
public static class Losses
{
    /// <summary>
    /// Softmax cross-entropy fused with its gradient, computed stably (log-sum-exp with the maximum
    /// subtracted). With label smoothing ε the target is (1 − ε) on the label and ε/classes everywhere.
    /// Gradient: <c>(softmax(z) − target) / batch</c>.
    /// </summary>
    /// <param name="logits">batch × classes.</param>
    /// <param name="labels">batch class indices.</param>
    /// <param name="classes">Number of classes.</param>
    /// <param name="gradient">batch × classes, written.</param>
    /// <param name="labelSmoothing">ε in [0, 1).</param>
    /// <returns>The mean loss.</returns>
    /// <exception cref="ArgumentException">No labels, or the logits are not exactly labels × classes, or the gradient is shorter.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside 0 … classes − 1, classes &lt; 1, or ε is outside [0, 1).</exception>
    public static float SoftmaxCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int classes, Span<float> gradient, float labelSmoothing = 0f)
    {
        var batch = labels.Length;
        if (classes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(classes), classes, "SoftmaxCrossEntropy needs at least one class.");
        }

        if (batch == 0)
        {
            throw new ArgumentException("SoftmaxCrossEntropy: no labels were given; the mean loss of an empty batch is undefined.", nameof(labels));
        }

        // The logits must match the labels exactly (a longer span would silently ignore samples); the
        // gradient may be a larger reused buffer.
        if (logits.Length != batch * classes || gradient.Length < batch * classes)
        {
            throw new ArgumentException($"SoftmaxCrossEntropy: {batch} labels × {classes} classes need exactly {batch * classes} logits and at least as many gradient floats; got {logits.Length} logits and {gradient.Length} gradient floats.");
        }

        if (!(labelSmoothing >= 0 && labelSmoothing < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "Label smoothing must be in [0, 1).");
        }

        double total = 0;
        var off = labelSmoothing / classes;
        var on = 1f - labelSmoothing + off;
        var inv = 1f / batch;
        for (var n = 0; n < batch; n++)
        {
            var label = labels[n];
            if ((uint)label >= (uint)classes)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), label, $"Label {label} of sample {n} is outside 0..{classes - 1}.");
            }

            var z = logits.Slice(n * classes, classes);
            var g = gradient.Slice(n * classes, classes);
            double max = TensorPrimitives.Max(z);
            double sum = 0;
            for (var i = 0; i < classes; i++)
            {
                sum += Math.Exp(z[i] - max);
            }

            // log pᵢ = (zᵢ − max) − log Σ exp(z − max). Not zᵢ − (max + log Σ): for |max| ≳ 1e17 the sum
            // max + log Σ rounds back to max and the log Σ term (e.g. ln 2 for two tied logits) is lost.
            var logSum = Math.Log(sum);
            for (var i = 0; i < classes; i++)
            {
                var target = i == label ? on : off;
                var logP = (z[i] - max) - logSum;
                total -= target * logP;
                g[i] = (float)((Math.Exp(logP) - target) * inv);
            }
        }

        return (float)(total / batch);
    }

    /// <summary>
    /// Knowledge distillation (Hinton et al. 2015): <c>(1 − α)·CE(z, label) + α·T²·KL(softmax(t/T) ‖ softmax(z/T))</c>
    /// for student logits <c>z</c> and teacher logits <c>t</c>. Gradient:
    /// <c>[(1 − α)(softmax(z) − onehot) + α·T·(softmax(z/T) − softmax(t/T))] / batch</c> (the T² keeps the soft
    /// term's gradient scale independent of T).
    /// </summary>
    /// <param name="logits">Student logits, batch × classes.</param>
    /// <param name="teacherLogits">Teacher logits for the same samples, batch × classes.</param>
    /// <param name="labels">batch class indices.</param>
    /// <param name="classes">Number of classes.</param>
    /// <param name="gradient">batch × classes, written.</param>
    /// <param name="temperature">Softening temperature T &gt; 0.</param>
    /// <param name="alpha">Weight α in [0, 1] of the teacher term.</param>
    /// <returns>The mean loss.</returns>
    public static float Distillation(ReadOnlySpan<float> logits, ReadOnlySpan<float> teacherLogits, ReadOnlySpan<int> labels, int classes, Span<float> gradient, float temperature = 4f, float alpha = 0.5f)
    {
        if (!(temperature > 0) || !float.IsFinite(temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The distillation temperature must be a positive finite number.");
        }

        if (!(alpha >= 0 && alpha <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "The distillation weight α must be in [0, 1].");
        }

        if (teacherLogits.Length != logits.Length)
        {
            throw new ArgumentException($"Distillation: the teacher gave {teacherLogits.Length} logits for {logits.Length} student logits.", nameof(teacherLogits));
        }

        var hard = SoftmaxCrossEntropy(logits, labels, classes, gradient);
        var batch = labels.Length;
        double soft = 0;
        Span<double> p = stackalloc double[classes];
        Span<double> q = stackalloc double[classes];
        for (var n = 0; n < batch; n++)
        {
            SoftmaxAt(logits.Slice(n * classes, classes), temperature, p);
            SoftmaxAt(teacherLogits.Slice(n * classes, classes), temperature, q);
            var g = gradient.Slice(n * classes, classes);
            for (var i = 0; i < classes; i++)
            {
                if (q[i] > 0)
                {
                    soft += q[i] * (Math.Log(q[i]) - Math.Log(Math.Max(p[i], double.Epsilon)));
                }

                g[i] = (float)(((1 - alpha) * g[i]) + (alpha * temperature * (p[i] - q[i]) / batch));
            }
        }

        return (float)(((1 - alpha) * hard) + (alpha * temperature * temperature * soft / batch));
    }

    private static void SoftmaxAt(ReadOnlySpan<float> z, float temperature, Span<double> result)
    {
        double max = TensorPrimitives.Max(z);
        double sum = 0;
        for (var i = 0; i < z.Length; i++)
        {
            result[i] = Math.Exp((z[i] - max) / temperature);
            sum += result[i];
        }

        for (var i = 0; i < z.Length; i++)
        {
            result[i] /= sum;
        }
    }

    /// <summary>Mean squared error <c>mean((p − t)²)</c> over all elements; gradient <c>2(p − t)/count</c>.</summary>
    public static float MeanSquaredError(ReadOnlySpan<float> prediction, ReadOnlySpan<float> target, Span<float> gradient)
    {
        if (prediction.IsEmpty)
        {
            throw new ArgumentException("MeanSquaredError: the prediction is empty; the mean of no elements is undefined.", nameof(prediction));
        }

        if (prediction.Length != target.Length || gradient.Length < prediction.Length)
        {
            throw new ArgumentException($"MeanSquaredError: prediction ({prediction.Length}), target ({target.Length}) and gradient ({gradient.Length}) lengths must agree.");
        }

        double total = 0;
        var scale = 2f / prediction.Length;
        for (var i = 0; i < prediction.Length; i++)
        {
            var d = prediction[i] - target[i];
            total += (double)d * d;
            gradient[i] = scale * d;
        }

        return (float)(total / prediction.Length);
    }
}
