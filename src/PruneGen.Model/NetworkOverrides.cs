namespace PruneGen.Model;

/// <summary>
/// Changes applied to a declaration while its graph is built: how a pruned network differs from its
/// base. The pruning engine produces them from a plan (channel groups → producer widths, removed
/// residual blocks and layers); the builder applies them, so the pruned graph's shapes, costs and parameter
/// shapes come from the same engine as the base graph's.
/// </summary>
/// <param name="Channels">New output widths of convolution and dense layers (by expanded layer name, e.g. <c>s1b1.conv1</c>).</param>
/// <param name="RemovedBlocks">Residual blocks removed whole (their output is their input); only blocks with an identity shortcut.</param>
public sealed record NetworkOverrides(EquatableArray<ChannelOverride> Channels, EquatableArray<string> RemovedBlocks)
{
    /// <summary>No changes: the base network.</summary>
    public static NetworkOverrides None { get; } = new(EquatableArray<ChannelOverride>.Empty, EquatableArray<string>.Empty);

    /// <summary>
    /// Plain convolution or dense layers removed with their BatchNorm / activation chain (their readers read
    /// their input); only layers <see cref="Pruning.RemovableLayers"/> finds removable.
    /// </summary>
    public EquatableArray<string> RemovedLayers { get; init; } = EquatableArray<string>.Empty;

    /// <summary>Whether nothing is overridden.</summary>
    public bool IsEmpty => Channels.Count == 0 && RemovedBlocks.Count == 0 && RemovedLayers.Count == 0;
}

/// <summary>
/// A new output width for one convolution or dense layer. A Conv2D declared as depthwise (groups equal to its
/// channels) gets the new width as its group count too, so it stays depthwise.
/// </summary>
/// <param name="Layer">The layer's (expanded) name.</param>
/// <param name="Channels">Output channels (convolution) or units (dense) it keeps; between 1 and the declared size.</param>
public sealed record ChannelOverride(string Layer, int Channels);
