namespace PruneGen.Kernels;

// Shape contracts the generated code implements with one struct per layer. Every member is a
// constant in the struct, and the kernels are generic over it, so the JIT compiles a copy of each
// kernel per layer with the dimensions folded in as constants.

/// <summary>Dimensions of a dense layer.</summary>
public interface IDenseShape
{
    /// <summary>Input features.</summary>
    static abstract int In { get; }

    /// <summary>Output features.</summary>
    static abstract int Out { get; }
}

/// <summary>Dimensions of a 2-D convolution.</summary>
public interface IConv2DShape
{
    /// <summary>Input channels.</summary>
    static abstract int InChannels { get; }

    /// <summary>Input height.</summary>
    static abstract int InHeight { get; }

    /// <summary>Input width.</summary>
    static abstract int InWidth { get; }

    /// <summary>Output channels.</summary>
    static abstract int OutChannels { get; }

    /// <summary>Output height.</summary>
    static abstract int OutHeight { get; }

    /// <summary>Output width.</summary>
    static abstract int OutWidth { get; }

    /// <summary>Kernel size.</summary>
    static abstract int Kernel { get; }

    /// <summary>Stride.</summary>
    static abstract int Stride { get; }

    /// <summary>Zero padding.</summary>
    static abstract int Padding { get; }

    /// <summary>Groups.</summary>
    static abstract int Groups { get; }
}

/// <summary>Dimensions of a pooling layer.</summary>
public interface IPool2DShape
{
    /// <summary>Channels.</summary>
    static abstract int Channels { get; }

    /// <summary>Input height.</summary>
    static abstract int InHeight { get; }

    /// <summary>Input width.</summary>
    static abstract int InWidth { get; }

    /// <summary>Output height.</summary>
    static abstract int OutHeight { get; }

    /// <summary>Output width.</summary>
    static abstract int OutWidth { get; }

    /// <summary>Window size.</summary>
    static abstract int Window { get; }

    /// <summary>Stride.</summary>
    static abstract int Stride { get; }

    /// <summary>Padding.</summary>
    static abstract int Padding { get; }
}

/// <summary>A per-channel layout: channels × spatial positions (spatial = 1 for flat vectors).</summary>
public interface IChannelShape
{
    /// <summary>Channels (features).</summary>
    static abstract int Channels { get; }

    /// <summary>Positions per channel.</summary>
    static abstract int Spatial { get; }
}
