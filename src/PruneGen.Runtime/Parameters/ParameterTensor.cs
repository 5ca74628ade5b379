using System;
using System.Collections;
using System.Collections.Generic;
using PruneGen.Model;

namespace PruneGen;

/// <summary>A named parameter (or running statistic) of a network: its PyTorch-style name, shape and data.</summary>
public sealed class ParameterTensor
{
    private float[]? _gradient;

    /// <summary>Creates a zero-filled tensor described by <paramref name="spec"/>.</summary>
    public ParameterTensor(ParameterSpec spec)
    {
        Spec = spec;
        Data = new float[spec.Length];
    }

    /// <summary>Name, shape and whether it is trained.</summary>
    public ParameterSpec Spec { get; }

    /// <summary>Full name, e.g. <c>conv1.weight</c>.</summary>
    public string Name => Spec.Name;

    /// <summary>Dimensions in PyTorch layout.</summary>
    public EquatableArray<int> Shape => Spec.Shape;

    /// <summary>The values, row-major.</summary>
    public float[] Data { get; }

    /// <summary>
    /// The accumulated gradient of the loss with respect to <see cref="Data"/> (same layout); empty for
    /// running statistics. Backward passes add to it; optimizers read it and clear it. Allocated on first use, so a
    /// network that only runs inference holds no gradient memory.
    /// </summary>
    public float[] Gradient => _gradient ??= Spec.Trainable ? new float[Spec.Length] : Array.Empty<float>();

    /// <summary>Number of elements.</summary>
    public int Length => Data.Length;

    /// <inheritdoc />
    public override string ToString() => $"{Name} [{string.Join("×", Shape)}]";
}

/// <summary>The parameters of a network in layer order, addressable by name.</summary>
public sealed class ParameterSet : IReadOnlyList<ParameterTensor>
{
    private readonly ParameterTensor[] _items;
    private readonly Dictionary<string, ParameterTensor> _byName;

    /// <summary>Wraps <paramref name="items"/> (names must be unique).</summary>
    public ParameterSet(ParameterTensor[] items)
    {
        _items = items;
        _byName = new Dictionary<string, ParameterTensor>(StringComparer.Ordinal);
        foreach (var p in items)
        {
            _byName.Add(p.Name, p);
        }
    }

    /// <inheritdoc />
    public int Count => _items.Length;

    /// <inheritdoc />
    public ParameterTensor this[int index] => _items[index];

    /// <summary>The tensor called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name; the message lists the names there are.</exception>
    public ParameterTensor this[string name] => _byName.TryGetValue(name, out var p)
        ? p
        : throw new KeyNotFoundException($"The network has no parameter '{name}'. Its parameters are: {string.Join(", ", _byName.Keys)}.");

    /// <summary>Looks a tensor up by name.</summary>
    public bool TryGet(string name, out ParameterTensor tensor) => _byName.TryGetValue(name, out tensor!);

    /// <summary>Number of trainable scalars.</summary>
    public long TrainableCount
    {
        get
        {
            long n = 0;
            foreach (var p in _items)
            {
                if (p.Spec.Trainable)
                {
                    n += p.Length;
                }
            }

            return n;
        }
    }

    /// <summary>A copy of every tensor's values, in order (e.g. to try a pruning mask and undo it with <see cref="RestoreValues"/>).</summary>
    public float[][] CopyValues()
    {
        var copy = new float[_items.Length][];
        for (var i = 0; i < copy.Length; i++)
        {
            copy[i] = (float[])_items[i].Data.Clone();
        }

        return copy;
    }

    /// <summary>Puts back values taken with <see cref="CopyValues"/> (from this set or a set of the same network class).</summary>
    /// <exception cref="ArgumentException">The copy has another number of tensors or another length somewhere.</exception>
    public void RestoreValues(float[][] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != _items.Length)
        {
            throw new ArgumentException($"The copy holds {values.Length} tensors; this set has {_items.Length}.", nameof(values));
        }

        for (var i = 0; i < values.Length; i++)
        {
            if (values[i].Length != _items[i].Length)
            {
                throw new ArgumentException($"The copy of '{_items[i].Name}' has {values[i].Length} values; the tensor has {_items[i].Length}.", nameof(values));
            }

            values[i].CopyTo(_items[i].Data, 0);
        }
    }

    /// <summary>Sets every gradient to zero (before accumulating a new batch).</summary>
    public void ZeroGradients()
    {
        foreach (var p in _items)
        {
            Array.Clear(p.Gradient);
        }
    }

    /// <inheritdoc />
    public IEnumerator<ParameterTensor> GetEnumerator() => ((IEnumerable<ParameterTensor>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
