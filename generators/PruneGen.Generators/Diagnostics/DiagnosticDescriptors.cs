using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using PruneGen.Model;

namespace PruneGen.Generators.Diagnostics;

/// <summary>Every diagnostic PruneGen reports. Messages arrive fully formatted from the network builder or parser.</summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "PruneGen";

    private static readonly Dictionary<string, DiagnosticDescriptor> ById = new();

    /// <summary>PG0001: a [Network] class must be partial.</summary>
    public static readonly DiagnosticDescriptor NotPartial = Rule(DiagnosticIds.NotPartial, "Network class must be partial");

    /// <summary>PG0002.</summary>
    public static readonly DiagnosticDescriptor EmptyNetwork = Rule(DiagnosticIds.EmptyNetwork, "Network declares no layers");

    /// <summary>PG0003.</summary>
    public static readonly DiagnosticDescriptor DuplicateName = Rule(DiagnosticIds.DuplicateName, "Duplicate layer name");

    /// <summary>PG0004.</summary>
    public static readonly DiagnosticDescriptor UnknownLayer = Rule(DiagnosticIds.UnknownLayer, "Unknown layer referenced");

    /// <summary>PG0005.</summary>
    public static readonly DiagnosticDescriptor NonPositiveSize = Rule(DiagnosticIds.NonPositiveSize, "Size must be positive");

    /// <summary>PG0006.</summary>
    public static readonly DiagnosticDescriptor KernelTooLarge = Rule(DiagnosticIds.KernelTooLarge, "Kernel larger than the padded input");

    /// <summary>PG0007.</summary>
    public static readonly DiagnosticDescriptor SpatialCollapse = Rule(DiagnosticIds.SpatialCollapse, "Spatial size reaches zero");

    /// <summary>PG0008.</summary>
    public static readonly DiagnosticDescriptor AddShapeMismatch = Rule(DiagnosticIds.AddShapeMismatch, "Residual branches have different shapes");

    /// <summary>PG0009.</summary>
    public static readonly DiagnosticDescriptor ConcatShapeMismatch = Rule(DiagnosticIds.ConcatShapeMismatch, "Concatenated tensors have different spatial shapes");

    /// <summary>PG0010.</summary>
    public static readonly DiagnosticDescriptor GroupsMismatch = Rule(DiagnosticIds.GroupsMismatch, "Groups do not divide the channels");

    /// <summary>PG0011.</summary>
    public static readonly DiagnosticDescriptor InvalidSequence = Rule(DiagnosticIds.InvalidSequence, "Layer cannot follow its input");

    /// <summary>PG0012.</summary>
    public static readonly DiagnosticDescriptor InternalError = Rule(DiagnosticIds.InternalError, "PruneGen generator failed");

    /// <summary>PG0013.</summary>
    public static readonly DiagnosticDescriptor InvalidName = Rule(DiagnosticIds.InvalidName, "Invalid layer name");

    /// <summary>PG0014.</summary>
    public static readonly DiagnosticDescriptor IdentifierCollision = Rule(DiagnosticIds.IdentifierCollision, "Layer names collide in generated code");

    /// <summary>PG0015.</summary>
    public static readonly DiagnosticDescriptor InvalidArgument = Rule(DiagnosticIds.InvalidArgument, "Argument out of range");

    /// <summary>PG0016.</summary>
    public static readonly DiagnosticDescriptor InvalidNetworkClass = Rule(DiagnosticIds.InvalidNetworkClass, "Invalid network class");

    /// <summary>PG0017.</summary>
    public static readonly DiagnosticDescriptor OverrideUnknownLayer = Rule(DiagnosticIds.OverrideUnknownLayer, "Channel override names an unknown layer");

    /// <summary>PG0018.</summary>
    public static readonly DiagnosticDescriptor OverrideNotPrunable = Rule(DiagnosticIds.OverrideNotPrunable, "Channel override names a layer that does not set its own width");

    /// <summary>PG0019.</summary>
    public static readonly DiagnosticDescriptor OverrideChannelsOutOfRange = Rule(DiagnosticIds.OverrideChannelsOutOfRange, "Channel override out of range");

    /// <summary>PG0020.</summary>
    public static readonly DiagnosticDescriptor RemovedBlockUnknown = Rule(DiagnosticIds.RemovedBlockUnknown, "Removed block is not a residual block");

    /// <summary>PG0021.</summary>
    public static readonly DiagnosticDescriptor RemovedBlockHasProjection = Rule(DiagnosticIds.RemovedBlockHasProjection, "Removed block has a projection shortcut");

    /// <summary>PG0027.</summary>
    public static readonly DiagnosticDescriptor RemovedLayerInvalid = Rule(DiagnosticIds.RemovedLayerInvalid, "Removed layer cannot be removed");

    /// <summary>PG0022.</summary>
    public static readonly DiagnosticDescriptor MacsBudgetExceeded = Rule(DiagnosticIds.MacsBudgetExceeded, "Network exceeds its MACs budget");

    /// <summary>PG0023.</summary>
    public static readonly DiagnosticDescriptor ParameterBudgetExceeded = Rule(DiagnosticIds.ParameterBudgetExceeded, "Network exceeds its parameter budget");

    /// <summary>PG0024.</summary>
    public static readonly DiagnosticDescriptor ActivationMemoryBudgetExceeded = Rule(DiagnosticIds.ActivationMemoryBudgetExceeded, "Network exceeds its activation memory budget");

    /// <summary>PG0025.</summary>
    public static readonly DiagnosticDescriptor ShapeMismatch = Rule(DiagnosticIds.ShapeMismatch, "Layer shape differs from its expected shape");

    /// <summary>PG0026.</summary>
    public static readonly DiagnosticDescriptor ExpectShapeUnknownLayer = Rule(DiagnosticIds.ExpectShapeUnknownLayer, "Expected shape names an unknown layer");

    /// <summary>The descriptor for <paramref name="id"/>.</summary>
    public static DiagnosticDescriptor Get(string id) => ById.TryGetValue(id, out var d) ? d : InternalError;

    private static DiagnosticDescriptor Rule(string id, string title)
    {
        var descriptor = new DiagnosticDescriptor(id, title, "{0}", Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
        ById[id] = descriptor;
        return descriptor;
    }
}
