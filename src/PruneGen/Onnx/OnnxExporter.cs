using System;
using System.IO;

using PruneGen.IO;

namespace PruneGen.Onnx;

/// <summary>
/// Exports a PruneGen network with its current parameter values to an ONNX model (IR version
/// <see cref="IrVersion"/>, default-domain opset <see cref="OpsetVersion"/>), for ONNX Runtime and
/// every other ONNX consumer.
/// </summary>
/// <remarks>
/// <para>
/// The model has one input, <see cref="InputName"/>, of shape [N, C, H, W] (or [N, length] for a
/// network with a flat input) and one output, <see cref="OutputName"/>, of shape [N, …] where N is the
/// symbolic batch dimension <see cref="BatchDimension"/>. Parameters become float initializers
/// named exactly as in <see cref="INetwork.Parameters"/> (e.g. <c>conv1.weight</c>); nodes and
/// intermediate tensors are named after the layers.
/// </para>
/// <para>
/// Layer mapping: Dense → Gemm (transB = 1), Conv2D (and depthwise) → Conv, BatchNorm →
/// BatchNormalization (inference, ε = 1e-5), ReLU → Relu, LeakyReLU → LeakyRelu, Sigmoid, Tanh,
/// MaxPool2D → MaxPool, AvgPool2D → AveragePool (count_include_pad = 1), GlobalAvgPool →
/// GlobalAveragePool + Flatten, Flatten → Flatten (axis 1), Dropout → Identity, Add → Add (chained for
/// more than two inputs), Concat → Concat (axis 1), Softmax → Softmax (axis 1).
/// </para>
/// </remarks>
public static class OnnxExporter
{
    /// <summary>The ONNX IR version the models declare.</summary>
    public const int IrVersion = 8;

    /// <summary>The version of the default ONNX operator set the models import.</summary>
    public const int OpsetVersion = 17;

    /// <summary>The name of the model's input.</summary>
    public const string InputName = "input";

    /// <summary>The name of the model's output.</summary>
    public const string OutputName = "output";

    /// <summary>The name of the symbolic batch dimension of the input and output.</summary>
    public const string BatchDimension = "N";

    /// <summary>Serializes <paramref name="network"/> and its parameter values as an ONNX <c>ModelProto</c>.</summary>
    /// <param name="network">The network to export.</param>
    /// <returns>The model's bytes, ready for <c>new InferenceSession(bytes)</c> or a <c>.onnx</c> file.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> is null.</exception>
    /// <exception cref="ArgumentException">The network has no layers.</exception>
    /// <exception cref="NotSupportedException">A layer has a kind ONNX export does not support (the message names it), or the model would exceed protobuf's 2 GiB limit.</exception>
    /// <exception cref="System.Collections.Generic.KeyNotFoundException">A parameter the graph names is missing from <see cref="INetwork.Parameters"/>.</exception>
    /// <exception cref="InvalidOperationException">The graph or the parameters are inconsistent (a parameter of the wrong length, a layer reading a later one).</exception>
    public static byte[] Export(INetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        return OnnxGraphWriter.BuildModel(network).ToByteArray();
    }

    /// <summary>
    /// Writes the ONNX model of <paramref name="network"/> to <paramref name="path"/>, replacing any
    /// existing file. The bytes go to a temporary file in the same folder, which is flushed to disk and
    /// then moved over <paramref name="path"/>, so a crash never leaves a half-written model behind.
    /// </summary>
    /// <param name="network">The network to export.</param>
    /// <param name="path">The file to write, e.g. <c>model.onnx</c>; its folder must exist.</param>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> or <paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty, blank, or names a folder.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder of <paramref name="path"/> does not exist.</exception>
    /// <exception cref="NotSupportedException">See <see cref="Export"/>.</exception>
    public static void Save(INetwork network, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var fullPath = Path.GetFullPath(path);
        var fileName = Path.GetFileName(fullPath);
        if (fileName.Length == 0 || Directory.Exists(fullPath))
        {
            throw new ArgumentException($"Cannot save the ONNX model to '{path}': it names a folder, not a file. Give a file name such as 'model.onnx'.", nameof(path));
        }

        var folder = Path.GetDirectoryName(fullPath)!;
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"Cannot save the ONNX model to '{fullPath}': the folder '{folder}' does not exist.");
        }

        // Export first, so that a network that cannot be exported leaves nothing on disk.
        var bytes = Export(network);
        AtomicFile.Write(fullPath, stream => stream.Write(bytes));
    }
}
