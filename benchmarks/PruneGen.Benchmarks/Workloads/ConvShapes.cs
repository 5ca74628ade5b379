using PruneGen.Kernels;

namespace PruneGen.Benchmarks.Workloads;

/// <summary>A number as a type, so a generic shape built from numbers still has constant members the JIT folds.</summary>
internal interface IConstant
{
    /// <summary>The number.</summary>
    static abstract int Value { get; }
}

internal readonly struct N1 : IConstant
{
    public static int Value => 1;
}

internal readonly struct N2 : IConstant
{
    public static int Value => 2;
}

internal readonly struct N3 : IConstant
{
    public static int Value => 3;
}

internal readonly struct N5 : IConstant
{
    public static int Value => 5;
}

internal readonly struct N6 : IConstant
{
    public static int Value => 6;
}

internal readonly struct N7 : IConstant
{
    public static int Value => 7;
}

internal readonly struct N8 : IConstant
{
    public static int Value => 8;
}

internal readonly struct N11 : IConstant
{
    public static int Value => 11;
}

internal readonly struct N14 : IConstant
{
    public static int Value => 14;
}

internal readonly struct N16 : IConstant
{
    public static int Value => 16;
}

internal readonly struct N22 : IConstant
{
    public static int Value => 22;
}

internal readonly struct N23 : IConstant
{
    public static int Value => 23;
}

internal readonly struct N28 : IConstant
{
    public static int Value => 28;
}

internal readonly struct N31 : IConstant
{
    public static int Value => 31;
}

internal readonly struct N32 : IConstant
{
    public static int Value => 32;
}

internal readonly struct N45 : IConstant
{
    public static int Value => 45;
}

internal readonly struct N63 : IConstant
{
    public static int Value => 63;
}

internal readonly struct N64 : IConstant
{
    public static int Value => 64;
}

internal readonly struct N128 : IConstant
{
    public static int Value => 128;
}

/// <summary>
/// A convolution padded by K/2: <typeparamref name="TIn"/> → <typeparamref name="TOut"/> channels from
/// <typeparamref name="TSize"/>², a <typeparamref name="TKernel"/>² kernel at stride <typeparamref name="TStride"/> — the
/// same size at stride 1 (every 3×3 layer the profiles time, LeNet-5's 5×5 first layer), half at stride 2 (the tiny
/// ResNet's downsampling 3×3 layers and 1×1 projections).
/// </summary>
internal readonly struct Conv<TIn, TOut, TSize, TKernel, TStride> : IConv2DShape
    where TIn : IConstant
    where TOut : IConstant
    where TSize : IConstant
    where TKernel : IConstant
    where TStride : IConstant
{
    public static int InChannels => TIn.Value;

    public static int InHeight => TSize.Value;

    public static int InWidth => TSize.Value;

    public static int OutChannels => TOut.Value;

    public static int OutHeight => ((TSize.Value + (2 * Padding) - TKernel.Value) / TStride.Value) + 1;

    public static int OutWidth => OutHeight;

    public static int Kernel => TKernel.Value;

    public static int Stride => TStride.Value;

    public static int Padding => TKernel.Value / 2;

    public static int Groups => 1;
}
