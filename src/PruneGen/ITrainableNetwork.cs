using System;

namespace PruneGen;

/// <summary>
/// A generated network that can be trained: a training-mode forward pass that keeps what the
/// backward pass needs (activations, BatchNorm batch statistics, dropout masks), and the backward
/// pass itself, generated with the same constant dimensions as the forward.
/// </summary>
public interface ITrainableNetwork : INetwork
{
    /// <summary>BatchNorm running-statistics momentum (default 0.1, as in PyTorch).</summary>
    float BatchNormMomentum { get; set; }

    /// <summary>State of the dropout mask generator; set it to make a run reproducible.</summary>
    ulong DropoutState { get; set; }

    /// <summary>
    /// Training-mode forward over <paramref name="batch"/> samples: BatchNorm uses batch statistics
    /// (and updates its running ones), dropout draws masks. Returns the output (batch × OutputSize),
    /// valid until the next call.
    /// </summary>
    ReadOnlySpan<float> TrainForward(ReadOnlySpan<float> input, int batch);

    /// <summary>
    /// Backward pass of the last <see cref="TrainForward"/>: given ∂loss/∂output, adds ∂loss/∂parameter
    /// to each <see cref="ParameterTensor.Gradient"/> (call <see cref="ParameterSet.ZeroGradients"/> first).
    /// </summary>
    void Backward(ReadOnlySpan<float> outputGradient, int batch);
}
