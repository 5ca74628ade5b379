using System;
using System.Collections.Generic;
using System.Numerics.Tensors;

namespace PruneGen.Training;

/// <summary>
/// Updates a network's parameters from their accumulated gradients. State (momentum, moments) is
/// kept per parameter under stable names so it can be saved in a checkpoint and resumed.
/// </summary>
/// <remarks>
/// <see cref="Update"/> allocates nothing once every state tensor exists (after the first step, or
/// after <see cref="LoadState"/>), so a training step can run without touching the garbage collector.
/// </remarks>
public abstract class Optimizer
{
    private readonly Dictionary<string, float[]> _state = new(StringComparer.Ordinal);

    /// <summary>State tensors by parameter (reference) and slot in <see cref="StateNames"/>: found without building a name.</summary>
    private readonly Dictionary<ParameterTensor, float[]?[]> _slots = new(ReferenceEqualityComparer.Instance);

    private readonly float _weightDecay;

    /// <summary>Creates an optimizer for <paramref name="parameters"/>.</summary>
    protected Optimizer(ParameterSet parameters) => Parameters = parameters ?? throw new ArgumentNullException(nameof(parameters));

    /// <summary>The parameters it updates (only the trainable ones are touched).</summary>
    public ParameterSet Parameters { get; }

    /// <summary>Steps taken so far.</summary>
    public long Step { get; set; }

    /// <summary>
    /// L2 weight decay (finite, ≥ 0). Applied to the weights of dense and convolution layers only: decaying
    /// biases and BatchNorm's γ/β hurts accuracy and has no regularizing value.
    /// </summary>
    public float WeightDecay
    {
        get => _weightDecay;
        init => _weightDecay = float.IsFinite(value) && value >= 0
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "Weight decay must be a finite non-negative number.");
    }

    /// <summary>Optimizer state tensors by name (e.g. <c>conv1.weight.momentum</c>), for checkpoints.</summary>
    public IReadOnlyDictionary<string, float[]> State => _state;

    /// <summary>
    /// The state tensors this optimizer keeps for each trainable parameter: a state named
    /// <c>{parameter}.{stateName}</c> exists for each, e.g. <c>momentum</c> for SGD with momentum.
    /// </summary>
    public abstract IReadOnlyList<string> StateNames { get; }

    /// <summary>Applies one update with learning rate <paramref name="learningRate"/>, then clears the gradients.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The learning rate is negative, NaN or infinite.</exception>
    public void Update(float learningRate)
    {
        if (!float.IsFinite(learningRate) || learningRate < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be a finite non-negative number.");
        }

        Step++;

        // Indexed, not foreach: ParameterSet's enumerator is a boxed array enumerator (an allocation per step).
        for (var i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
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

    /// <summary>
    /// The state tensor <paramref name="name"/> (one of <see cref="StateNames"/>) of <paramref name="parameter"/>,
    /// created zeroed on first use. Allocates only when it creates the tensor.
    /// </summary>
    protected float[] StateOf(ParameterTensor parameter, string name)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        var slot = SlotOf(name);
        if (slot < 0)
        {
            throw new ArgumentException($"'{name}' is not a state of {GetType().Name}; its states are: {string.Join(", ", StateNames)}.", nameof(name));
        }

        if (!_slots.TryGetValue(parameter, out var slots))
        {
            slots = new float[StateNames.Count][];
            _slots.Add(parameter, slots);
        }

        if (slots[slot] is { } data)
        {
            return data;
        }

        data = new float[parameter.Length];
        slots[slot] = data;
        _state.Add(parameter.Name + "." + name, data);
        return data;
    }

    /// <summary>Restores a state tensor saved from <see cref="State"/>, e.g. <c>conv1.weight.momentum</c>.</summary>
    /// <exception cref="ArgumentException">
    /// The name is not <c>{trainable parameter}.{one of <see cref="StateNames"/>}</c>, or the length differs from the parameter's.
    /// </exception>
    public void LoadState(string name, ReadOnlySpan<float> values)
    {
        ArgumentNullException.ThrowIfNull(name);
        var dot = name.LastIndexOf('.');
        var parameterName = dot < 0 ? name : name[..dot];
        var stateName = dot < 0 ? string.Empty : name[(dot + 1)..];
        if (dot < 0 || !Parameters.TryGet(parameterName, out var p) || !p.Spec.Trainable)
        {
            throw new ArgumentException($"Optimizer state '{name}' ({values.Length} values) does not belong to any trainable parameter of this network.", nameof(name));
        }

        if (SlotOf(stateName) < 0)
        {
            var kept = StateNames.Count == 0 ? "keeps no state" : "keeps " + string.Join(", ", StateNames);
            throw new ArgumentException($"Optimizer state '{name}': {GetType().Name} {kept}, not '{stateName}' (was the checkpoint written with another optimizer or settings?).", nameof(name));
        }

        if (p.Length != values.Length)
        {
            throw new ArgumentException($"Optimizer state '{name}' has {values.Length} values but parameter '{p.Name}' has {p.Length}.", nameof(name));
        }

        values.CopyTo(StateOf(p, StateNames[SlotOf(stateName)]));
    }

    private int SlotOf(string name)
    {
        var names = StateNames;
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool IsDecayed(ParameterTensor p) => p.Name.EndsWith(".weight", StringComparison.Ordinal) && p.Shape.Count >= 2;
}

/// <summary>
/// Stochastic gradient descent with momentum (PyTorch's formulation): <c>v = μ·v + g</c>,
/// step <c>g + μ·v</c> with Nesterov or <c>v</c> without, <c>w −= lr·step</c>; weight decay adds <c>λ·w</c> to g.
/// </summary>
public sealed class Sgd : Optimizer
{
    private static readonly string[] MomentumState = ["momentum"];

    /// <summary>Creates SGD over <paramref name="parameters"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="momentum"/> is not in [0, 1).</exception>
    public Sgd(ParameterSet parameters, float momentum = 0.9f, bool nesterov = true)
        : base(parameters)
    {
        if (!(momentum >= 0 && momentum < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "Momentum must be in [0, 1).");
        }

        Momentum = momentum;
        Nesterov = nesterov;
    }

    /// <summary>Momentum μ (0 disables it).</summary>
    public float Momentum { get; }

    /// <summary>Whether the step uses Nesterov's look-ahead.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc />
    public override IReadOnlyList<string> StateNames => Momentum == 0 ? [] : MomentumState;

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
/// <c>w −= lr·(m̂/(√v̂ + ε) + λ·w)</c> with bias-corrected <c>m̂ = m/(1−β₁ᵗ)</c>, <c>v̂ = v/(1−β₂ᵗ)</c>.
/// </summary>
public sealed class AdamW : Optimizer
{
    private static readonly string[] MomentStates = ["exp_avg", "exp_avg_sq"];

    /// <summary>Creates AdamW over <paramref name="parameters"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A β is not in [0, 1) or ε is not positive and finite.</exception>
    public AdamW(ParameterSet parameters, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
        : base(parameters)
    {
        if (!(beta1 >= 0 && beta1 < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "β₁ must be in [0, 1).");
        }

        if (!(beta2 >= 0 && beta2 < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "β₂ must be in [0, 1).");
        }

        if (!(epsilon > 0 && float.IsFinite(epsilon)))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "ε must be a positive finite number.");
        }

        (Beta1, Beta2, Epsilon) = (beta1, beta2, epsilon);
    }

    /// <summary>First-moment decay.</summary>
    public float Beta1 { get; }

    /// <summary>Second-moment decay.</summary>
    public float Beta2 { get; }

    /// <summary>Denominator guard.</summary>
    public float Epsilon { get; }

    /// <inheritdoc />
    public override IReadOnlyList<string> StateNames => MomentStates;

    /// <inheritdoc />
    protected override void Apply(ParameterTensor parameter, float learningRate, float weightDecay)
    {
        var w = parameter.Data;
        var g = parameter.Gradient;
        var m = StateOf(parameter, "exp_avg");
        var v = StateOf(parameter, "exp_avg_sq");

        // Bias corrections in double (as PyTorch computes them), rounded once.
        var c1 = (float)(1.0 / (1.0 - Math.Pow(Beta1, Step)));
        var c2 = (float)(1.0 / (1.0 - Math.Pow(Beta2, Step)));
        for (var i = 0; i < w.Length; i++)
        {
            m[i] = (Beta1 * m[i]) + ((1 - Beta1) * g[i]);
            v[i] = (Beta2 * v[i]) + ((1 - Beta2) * g[i] * g[i]);
            var update = (m[i] * c1 / (MathF.Sqrt(v[i] * c2) + Epsilon)) + (weightDecay * w[i]);
            w[i] -= learningRate * update;
        }
    }
}
