using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PruneGen.Kernels;

/// <summary>The vector width the CPU kernels use, chosen once per process.</summary>
public enum SimdLevel
{
    /// <summary>Plain scalar code (no SIMD).</summary>
    Scalar = 1,

    /// <summary>256-bit vectors (AVX2 / FMA), 8 floats.</summary>
    Vector256 = 8,

    /// <summary>512-bit vectors (AVX-512), 16 floats.</summary>
    Vector512 = 16,
}

/// <summary>
/// Picks the kernels' vector width at start-up: the widest the hardware accelerates, unless the
/// environment variable <c>PRUNEGEN_SIMD</c> (<c>512</c>, <c>256</c> or <c>scalar</c>) asks for a
/// narrower one — that is how the tests run every fallback path on one machine. Being a
/// <c>static readonly</c> value, the JIT folds the dispatch into a constant.
/// </summary>
public static class Simd
{
    /// <summary>The level in use for this process.</summary>
    public static readonly SimdLevel Level = Choose(Environment.GetEnvironmentVariable("PRUNEGEN_SIMD"));

    /// <summary>
    /// Whether kernels pick every other float 16 at a time with AVX-512's two-source permute (<see cref="EvenLanes"/>,
    /// <see cref="OddLanes"/>): at the 512-bit level on hardware that has it.
    /// </summary>
    internal static readonly bool PairPermutes = Level == SimdLevel.Vector512 && Avx512F.IsSupported;

    /// <summary>Lanes 0, 2, …, 30 and 1, 3, …, 31 of two vectors side by side (the even and the odd columns).</summary>
    internal static readonly Vector512<int> EvenLanes = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);

    /// <inheritdoc cref="EvenLanes"/>
    internal static readonly Vector512<int> OddLanes = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);

    /// <summary>Lanes that interleave two vectors: a0 b0 a1 b1 … a7 b7, and a8 b8 … a15 b15 (the inverse of the above).</summary>
    internal static readonly Vector512<int> InterleaveLow = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);

    /// <inheritdoc cref="InterleaveLow"/>
    internal static readonly Vector512<int> InterleaveHigh = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);

    internal static SimdLevel Choose(string? requested)
    {
        var best = Vector512.IsHardwareAccelerated ? SimdLevel.Vector512
            : Vector256.IsHardwareAccelerated ? SimdLevel.Vector256
            : SimdLevel.Scalar;
        var wanted = requested?.Trim().ToUpperInvariant() switch
        {
            "512" => SimdLevel.Vector512,
            "256" => SimdLevel.Vector256,
            "SCALAR" or "1" => SimdLevel.Scalar,
            _ => best,
        };
        return (SimdLevel)Math.Min((int)wanted, (int)best);
    }
}

/// <summary>
/// The operations the kernels need from a vector of floats. Kernels are written once, generic over
/// this interface; the JIT specializes each for <see cref="V512"/>, <see cref="V256"/> and the
/// one-lane <see cref="V1"/> (the scalar fallback), so there is no per-width copy of the code.
/// </summary>
/// <typeparam name="TSelf">The implementing vector type.</typeparam>
public unsafe interface IVector<TSelf>
    where TSelf : unmanaged, IVector<TSelf>
{
    /// <summary>Lanes per vector.</summary>
    static abstract int Count { get; }

    /// <summary>All lanes zero.</summary>
    static abstract TSelf Zero { get; }

    /// <summary>All lanes <paramref name="value"/>.</summary>
    static abstract TSelf Broadcast(float value);

    /// <summary>Loads <see cref="Count"/> floats.</summary>
    static abstract TSelf Load(float* source);

    /// <summary>Stores <see cref="Count"/> floats.</summary>
    static abstract void Store(TSelf value, float* destination);

    /// <summary><c>a·b + c</c>, fused.</summary>
    static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf c);

    /// <summary>Lane-wise sum.</summary>
    static abstract TSelf Add(TSelf a, TSelf b);

    /// <summary>Lane-wise product.</summary>
    static abstract TSelf Multiply(TSelf a, TSelf b);

    /// <summary>Lane-wise maximum.</summary>
    static abstract TSelf Max(TSelf a, TSelf b);

    /// <summary>Sum of all lanes.</summary>
    static abstract float Sum(TSelf value);
}

/// <summary>16 floats in an AVX-512 register.</summary>
public readonly unsafe struct V512 : IVector<V512>
{
    private readonly Vector512<float> _v;

    private V512(Vector512<float> v) => _v = v;

    /// <inheritdoc />
    public static int Count => 16;

    /// <inheritdoc />
    public static V512 Zero => default;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Broadcast(float value) => new(Vector512.Create(value));

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Load(float* source) => new(Vector512.Load(source));

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(V512 value, float* destination) => value._v.Store(destination);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 MultiplyAdd(V512 a, V512 b, V512 c) => new(Vector512.FusedMultiplyAdd(a._v, b._v, c._v));

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Add(V512 a, V512 b) => new(a._v + b._v);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Multiply(V512 a, V512 b) => new(a._v * b._v);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Max(V512 a, V512 b) => new(Vector512.Max(a._v, b._v));

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(V512 value) => Vector512.Sum(value._v);
}

/// <summary>8 floats in an AVX register.</summary>
public readonly unsafe struct V256 : IVector<V256>
{
    private readonly Vector256<float> _v;

    private V256(Vector256<float> v) => _v = v;

    /// <inheritdoc />
    public static int Count => 8;

    /// <inheritdoc />
    public static V256 Zero => default;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Broadcast(float value) => new(Vector256.Create(value));

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Load(float* source) => new(Vector256.Load(source));

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(V256 value, float* destination) => value._v.Store(destination);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 MultiplyAdd(V256 a, V256 b, V256 c) => new(Vector256.FusedMultiplyAdd(a._v, b._v, c._v));

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Add(V256 a, V256 b) => new(a._v + b._v);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Multiply(V256 a, V256 b) => new(a._v * b._v);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Max(V256 a, V256 b) => new(Vector256.Max(a._v, b._v));

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(V256 value) => Vector256.Sum(value._v);
}

/// <summary>One float: the scalar fallback, run through the same generic kernels.</summary>
public readonly unsafe struct V1 : IVector<V1>
{
    private readonly float _v;

    private V1(float v) => _v = v;

    /// <inheritdoc />
    public static int Count => 1;

    /// <inheritdoc />
    public static V1 Zero => default;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V1 Broadcast(float value) => new(value);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V1 Load(float* source) => new(*source);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(V1 value, float* destination) => *destination = value._v;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V1 MultiplyAdd(V1 a, V1 b, V1 c) => new(MathF.FusedMultiplyAdd(a._v, b._v, c._v));

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V1 Add(V1 a, V1 b) => new(a._v + b._v);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V1 Multiply(V1 a, V1 b) => new(a._v * b._v);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V1 Max(V1 a, V1 b) => new(MathF.Max(a._v, b._v));

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(V1 value) => value._v;
}
