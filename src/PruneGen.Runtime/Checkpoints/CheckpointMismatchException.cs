using System;
using System.Collections.Generic;

namespace PruneGen.Checkpoints;

/// <summary>
/// A checkpoint is a valid safetensors file but does not fit the network: a parameter is missing, has
/// another shape, or the file holds a tensor the network does not have. The message names the first
/// mismatch (tensor, expected and found shapes, file) and counts the others.
/// </summary>
/// <remarks>A malformed file is an <see cref="System.IO.InvalidDataException"/> instead.</remarks>
public sealed class CheckpointMismatchException : Exception
{
    /// <summary>Creates the exception with a default message.</summary>
    public CheckpointMismatchException()
        : this("The checkpoint does not fit the network.")
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    public CheckpointMismatchException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and an inner exception.</summary>
    public CheckpointMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal CheckpointMismatchException(string filePath, string problem, string tensorName, int[]? expectedShape, int[]? foundShape, int mismatchCount)
        : base($"checkpoint '{filePath}' does not fit the network: {problem}")
    {
        FilePath = filePath;
        TensorName = tensorName;
        ExpectedShape = expectedShape;
        FoundShape = foundShape;
        MismatchCount = mismatchCount;
    }

    /// <summary>The checkpoint file.</summary>
    public string? FilePath { get; }

    /// <summary>The tensor of the first mismatch.</summary>
    public string? TensorName { get; }

    /// <summary>The shape the network expects for <see cref="TensorName"/>; null if the network has no such tensor.</summary>
    public IReadOnlyList<int>? ExpectedShape { get; }

    /// <summary>The shape in the file; null if the file has no such tensor.</summary>
    public IReadOnlyList<int>? FoundShape { get; }

    /// <summary>How many mismatches there are in all (the message names the first).</summary>
    public int MismatchCount { get; }
}
