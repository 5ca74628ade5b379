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

    /// <summary>
    /// The output of layer <paramref name="layer"/> from the last <see cref="TrainForward"/>: batch ×
    /// that layer's output size floats (NCHW), in training mode (BatchNorm on batch statistics, dropout
    /// masks applied), valid until the next <see cref="TrainForward"/>. A flatten layer returns the data
    /// it aliases; <c>−1</c> returns the network input as <see cref="TrainForward"/> saw it. No allocation.
    /// The pruning engine reads it for activation-based importance (mean activation, APoZ) and block influence.
    /// </summary>
    /// <param name="layer">The layer's index in <see cref="INetwork.Graph"/>'s <see cref="Model.NetworkGraph.Layers"/>, or −1 for the network input.</param>
    /// <exception cref="InvalidOperationException"><see cref="TrainForward"/> has not run yet.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layer"/> is not −1 or a layer index.</exception>
    ReadOnlySpan<float> TrainingActivation(int layer);
}
