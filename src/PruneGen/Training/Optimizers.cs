using System;
using System.Collections.Generic;
using System.Numerics.Tensors;

namespace PruneGen.Training;

/// <summary>
/// Updates a network's parameters from their accumulated gradients. State (momentum, moments) is
/// kept per parameter under stable names so it can be saved in a checkpoint and resumed.
/// </summary>
public abstract class Optimizer
{
    private readonly Dictionary<string, float[]> _state = new(StringComparer.Ordinal);

    /// <summary>Creates an optimizer for <paramref name="parameters"/>.</summary>
    protected Optimizer(ParameterSet parameters) => Parameters = parameters;

    /// <summary>The parameters it updates (only the trainable ones are touched).</summary>
    public ParameterSet Parameters { get; }

    /// <summary>Steps taken so far.</summary>
    public long Step { get; set; }

    /// <summary>
    /// L2 weight decay. Applied to the weights of dense and convolution layers only: decaying biases
    /// and BatchNorm's γ/β hurts accuracy and has no regularizing value.
    /// </summary>
    public float WeightDecay { get; init; }

    /// <summary>Optimizer state tensors by name (e.g. <c>conv1.weight.momentum</c>), for checkpoints.</summary>
    public IReadOnlyDictionary<string, float[]> State => _state;

    /// <summary>Applies one update with learning rate <paramref name="learningRate"/>, then clears the gradients.</summary>
    public void Update(float learningRate)
    {
        if (!float.IsFinite(learningRate) || learningRate < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be a finite non-negative number.");
        }

        Step++;
        foreach (var p in Parameters)
        {
            if (!p.Spec.Trainable)
            {
                continue;
            }

            var decay = IsDecayed(p) ? WeightDecay : 0f;
            Apply(p, learningRate, decay);
            Array.Clear(p.Gradient);
        }
    }

    /// <summary>Updates one parameter tensor.</summary>
    protected abstract void Apply(ParameterTensor parameter, float learningRate, float weightDecay);

    /// <summary>The state tensor <paramref name="name"/> of <paramref name="parameter"/>, created zeroed on first use.</summary>
    protected float[] StateOf(ParameterTensor parameter, string name)
    {
        var key = parameter.Name + "." + name;
        if (!_state.TryGetValue(key, out var data))
        {
            data = new float[parameter.Length];
            _state.Add(key, data);
        }

        return data;
    }

    /// <summary>Restores a state tensor saved from <see cref="State"/>.</summary>
    public void LoadState(string name, ReadOnlySpan<float> values)
    {
        var dot = name.LastIndexOf('.');
        if (dot < 0 || !Parameters.TryGet(name[..dot], out var p) || p.Length != values.Length)
        {
            throw new ArgumentException($"Optimizer state '{name}' ({values.Length} values) does not belong to any parameter of this network.", nameof(name));
        }

        var key = name;
        if (!_state.TryGetValue(key, out var data))
        {
            data = new float[values.Length];
            _state.Add(key, data);
        }

        values.CopyTo(data);
    }

    private static bool IsDecayed(ParameterTensor p) => p.Name.EndsWith(".weight", StringComparison.Ordinal) && p.Shape.Count >= 2;
}

/// <summary>
/// Stochastic gradient descent with momentum (PyTorch's formulation): <c>v = μ·v + g</c>,
/// step <c>g + μ·v</c> with Nesterov or <c>v</c> without, <c>w −= lr·step</c>; weight decay adds <c>λ·w</c> to g.
/// </summary>
public sealed class Sgd : Optimizer
{
    /// <summary>Creates SGD over <paramref name="parameters"/>.</summary>
    public Sgd(ParameterSet parameters, float momentum = 0.9f, bool nesterov = true)
        : base(parameters)
    {
        Momentum = momentum;
        Nesterov = nesterov;
    }

    /// <summary>Momentum μ (0 disables it).</summary>
    public float Momentum { get; }

    /// <summary>Whether the step uses Nesterov's look-ahead.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc />
    protected override void Apply(ParameterTensor parameter, float learningRate, float weightDecay)
    {
        var w = parameter.Data.AsSpan();
        var g = parameter.Gradient.AsSpan();
        if (weightDecay != 0)
        {
            TensorPrimitives.MultiplyAdd(w, weightDecay, g, g);
        }

        if (Momentum == 0)
        {
            TensorPrimitives.MultiplyAdd(g, -learningRate, w, w);
            return;
        }

        var v = StateOf(parameter, "momentum").AsSpan();
        TensorPrimitives.MultiplyAdd(v, Momentum, g, v);
        if (Nesterov)
        {
            TensorPrimitives.MultiplyAdd(v, Momentum, g, g);
            TensorPrimitives.MultiplyAdd(g, -learningRate, w, w);
        }
        else
        {
            TensorPrimitives.MultiplyAdd(v, -learningRate, w, w);
        }
    }
}

/// <summary>
/// AdamW (decoupled weight decay): <c>m = β₁m + (1−β₁)g</c>, <c>v = β₂v + (1−β₂)g²</c>,
/// <c>w −= lr·(m̂/(√v̂ + ε) + λ·w)</c> with bias-corrected m̂, v̂.
/// </summary>
public sealed class AdamW : Optimizer
{
    /// <summary>Creates AdamW over <paramref name="parameters"/>.</summary>
    public AdamW(ParameterSet parameters, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
        : base(parameters) => (Beta1, Beta2, Epsilon) = (beta1, beta2, epsilon);

    /// <summary>First-moment decay.</summary>
    public float Beta1 { get; }

    /// <summary>Second-moment decay.</summary>
    public float Beta2 { get; }

    /// <summary>Denominator guard.</summary>
    public float Epsilon { get; }

    /// <inheritdoc />
    protected override void Apply(ParameterTensor parameter, float learningRate, float weightDecay)
    {
        var w = parameter.Data;
        var g = parameter.Gradient;
        var m = StateOf(parameter, "exp_avg");
        var v = StateOf(parameter, "exp_avg_sq");
        var c1 = 1f / (1f - MathF.Pow(Beta1, Step));
        var c2 = 1f / (1f - MathF.Pow(Beta2, Step));
        for (var i = 0; i < w.Length; i++)
        {
            m[i] = (Beta1 * m[i]) + ((1 - Beta1) * g[i]);
            v[i] = (Beta2 * v[i]) + ((1 - Beta2) * g[i] * g[i]);
            var update = (m[i] * c1 / (MathF.Sqrt(v[i] * c2) + Epsilon)) + (weightDecay * w[i]);
            w[i] -= learningRate * update;
        }
    }
}
