using PruneGen.Model;

namespace PruneGen.Tests.Reference;

/// <summary>
/// Inference through the double-precision reference (<see cref="DoubleReference"/>): the oracle the
/// generated SIMD forward passes are checked against. Activations stay in double between layers, so
/// the only float rounding is in the parameters and the input themselves.
/// </summary>
public static class ScalarReference
{
    /// <summary>Runs the whole network on <paramref name="batch"/> samples (inference mode) and returns the last layer's output, rounded to float.</summary>
    public static float[] Forward(NetworkGraph graph, ParameterSet parameters, float[] input, int batch) =>
        ForwardLayers(graph, parameters, input, batch)[^1].Select(v => (float)v).ToArray();

    /// <summary>Runs the network in inference mode and returns every layer's output in layer order, in double.</summary>
    public static double[][] ForwardLayers(NetworkGraph graph, ParameterSet parameters, float[] input, int batch)
    {
        ArgumentNullException.ThrowIfNull(input);
        var reference = new DoubleReference(graph, parameters);
        reference.Forward(input.Select(v => (double)v).ToArray(), batch, training: false);
        return reference.LayerOutputs;
    }
}
