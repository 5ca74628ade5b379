using System;

namespace PruneGen;

/// <summary>
/// A compile-time budget: the build fails (PG0022) if the network needs more multiply-accumulates per
/// sample than <see cref="Macs"/>, counting dense and convolution layers as the summary table does.
/// </summary>
/// <example><c>[Network(1, 28, 28), MaxMacs(20_000_000)]</c></example>
/// <param name="macs">The most multiply-accumulates one sample may take; at least 1.</param>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class MaxMacsAttribute(long macs) : Attribute
{
    /// <summary>The most multiply-accumulates one sample may take.</summary>
    public long Macs { get; } = macs;
}

/// <summary>A compile-time budget: the build fails (PG0023) if the network has more trainable parameters than <see cref="Parameters"/>.</summary>
/// <param name="parameters">The most trainable parameters (weights and biases, BatchNorm γ and β); at least 1.</param>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class MaxParametersAttribute(long parameters) : Attribute
{
    /// <summary>The most trainable parameters.</summary>
    public long Parameters { get; } = parameters;
}

/// <summary>
/// A compile-time budget: the build fails (PG0024) if the generated <c>Forward</c> needs more than
/// <see cref="Bytes"/> of workspace for <see cref="Batch"/> samples. That is the number the generated
/// memory plan allocates: every layer output that is not an alias (batch × floats per sample) plus the
/// im2col scratch of one kernel thread (each further thread adds one more scratch).
/// </summary>
/// <param name="bytes">The most bytes of workspace; at least 1.</param>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class MaxActivationMemoryAttribute(long bytes) : Attribute
{
    /// <summary>The most bytes of workspace.</summary>
    public long Bytes { get; } = bytes;

    /// <summary>The batch the budget applies to (default 1).</summary>
    public int Batch { get; set; } = 1;
}

/// <summary>
/// A compile-time shape check: the build fails (PG0025) if layer <see cref="Layer"/> does not produce
/// <see cref="Channels"/> channels (and, when given, <see cref="Height"/>×<see cref="Width"/>), or
/// (PG0026) if the network has no such layer. Use it to pin the shapes a design relies on.
/// </summary>
/// <example><c>[ExpectShape("conv2", 64, 7, 7)]</c>, <c>[ExpectShape("fc1", 128)]</c></example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ExpectShapeAttribute : Attribute
{
    /// <summary>Expects layer <paramref name="layer"/> to produce <paramref name="channels"/> channels (or features of a flat output), whatever its spatial size.</summary>
    /// <param name="layer">The layer's (expanded) name, e.g. <c>conv1</c> or <c>s1b1.relu</c>.</param>
    /// <param name="channels">Output channels, or features of a flat output.</param>
    public ExpectShapeAttribute(string layer, int channels) => (Layer, Channels) = (layer, channels);

    /// <summary>Expects layer <paramref name="layer"/> to produce <paramref name="channels"/>×<paramref name="height"/>×<paramref name="width"/>.</summary>
    /// <param name="layer">The layer's (expanded) name.</param>
    /// <param name="channels">Output channels.</param>
    /// <param name="height">Output height (1 for a flat output).</param>
    /// <param name="width">Output width (1 for a flat output).</param>
    public ExpectShapeAttribute(string layer, int channels, int height, int width) => (Layer, Channels, Height, Width) = (layer, channels, height, width);

    /// <summary>The layer checked.</summary>
    public string Layer { get; }

    /// <summary>Expected output channels (or features).</summary>
    public int Channels { get; }

    /// <summary>Expected output height, or 0 when only the channels are checked.</summary>
    public int Height { get; }

    /// <summary>Expected output width, or 0 when only the channels are checked.</summary>
    public int Width { get; }
}
