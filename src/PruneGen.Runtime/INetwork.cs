using System;
using PruneGen.Model;

namespace PruneGen;

/// <summary>
/// What every generated network offers, for code that works on any network (initialization,
/// export, pruning, tooling). The generated class also has the same members as constants and
/// strongly-typed properties.
/// </summary>
public interface INetwork
{
    /// <summary>The network's graph: layers, edges, shapes and costs, built by the same engine the generator used.</summary>
    NetworkGraph Graph { get; }

    /// <summary>Every parameter and running statistic, in layer order.</summary>
    ParameterSet Parameters { get; }

    /// <summary>Floats in one input sample.</summary>
    int InputSize { get; }

    /// <summary>Floats in one output sample.</summary>
    int OutputSize { get; }

    /// <summary>
    /// Runs inference on <paramref name="batch"/> samples laid out one after another (NCHW).
    /// Allocates only when the batch is larger than any seen before.
    /// </summary>
    /// <param name="input">batch × <see cref="InputSize"/> floats.</param>
    /// <param name="output">batch × <see cref="OutputSize"/> floats, written.</param>
    /// <param name="batch">Number of samples.</param>
    void Forward(ReadOnlySpan<float> input, Span<float> output, int batch);
}
