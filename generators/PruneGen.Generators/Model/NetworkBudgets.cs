using PruneGen.Model;

namespace PruneGen.Generators.Model;

/// <summary>
/// The compile-time budgets and shape expectations declared on a network class (<c>[MaxMacs]</c>,
/// <c>[MaxParameters]</c>, <c>[MaxActivationMemory]</c>, <c>[ExpectShape]</c>), as plain values so the
/// spec stays value-equatable. Checked against the graph while parsing; the emitter lists them in the summary.
/// </summary>
/// <param name="MaxMacs">Multiply-accumulates per sample allowed, or null.</param>
/// <param name="MaxParameters">Trainable parameters allowed, or null.</param>
/// <param name="MaxActivationBytes">Bytes of Forward workspace allowed at <paramref name="ActivationBatch"/>, or null.</param>
/// <param name="ActivationBatch">The batch the memory budget applies to.</param>
/// <param name="Shapes">Expected layer shapes, in declaration order.</param>
internal sealed record NetworkBudgets(long? MaxMacs, long? MaxParameters, long? MaxActivationBytes, int ActivationBatch, EquatableArray<ShapeExpectation> Shapes)
{
    /// <summary>No budgets or expectations.</summary>
    public static NetworkBudgets None { get; } = new(null, null, null, 1, EquatableArray<ShapeExpectation>.Empty);

    /// <summary>Whether nothing is declared.</summary>
    public bool IsEmpty => MaxMacs is null && MaxParameters is null && MaxActivationBytes is null && Shapes.Count == 0;
}

/// <summary>One <c>[ExpectShape]</c>: the layer and the shape it must produce.</summary>
/// <param name="Layer">The layer's (expanded) name.</param>
/// <param name="Channels">Expected channels (or features).</param>
/// <param name="Height">Expected height, or 0 when only the channels are checked.</param>
/// <param name="Width">Expected width, or 0 when only the channels are checked.</param>
internal sealed record ShapeExpectation(string Layer, int Channels, int Height, int Width)
{
    /// <summary>Whether the spatial size is checked too.</summary>
    public bool HasSpatial => Height > 0 || Width > 0;

    /// <summary>The expected shape as the summary table writes shapes.</summary>
    public override string ToString() => HasSpatial ? $"{Channels}×{Height}×{Width}" : $"{Channels} channels";
}
