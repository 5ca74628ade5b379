using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PruneGen.Kernels;

/// <summary>
/// The operations of the register-blocked convolution kernels (the broadcast path's run, Winograd F(4×4)) on a raw vector
/// type <typeparamref name="TV"/> (<see cref="Vector512{T}"/> or <see cref="Vector256{T}"/> of floats), so that one body
/// serves 16 and 8 lanes. Unlike <see cref="IVector{TSelf}"/>, whose values are structs wrapping a vector, the values here
/// are the vectors themselves: through the wrapper the JIT neither folded a broadcast into its multiply-add (AVX-512's
/// embedded broadcast) nor accumulated in place, and a run of 14 broadcast multiply-adds took 42 instructions instead of
/// 14 (the strided 16→32 @28² layer 1.2 → 2.4–4.5 ms at batch 64).
/// </summary>
/// <typeparam name="TV">The vector type.</typeparam>
internal unsafe interface ILanes<TV>
    where TV : unmanaged
{
    /// <summary>Floats per vector.</summary>
    static abstract int Count { get; }

    /// <summary>All lanes zero.</summary>
    static abstract TV Zero { get; }

    /// <summary>All lanes <paramref name="value"/>.</summary>
    static abstract TV Broadcast(float value);

    /// <summary>Loads <see cref="Count"/> floats.</summary>
    static abstract TV Load(float* source);

    /// <summary>Stores <see cref="Count"/> floats.</summary>
    static abstract void Store(TV value, float* destination);

    /// <summary><c>a·b + c</c>, fused.</summary>
    static abstract TV MultiplyAdd(TV a, TV b, TV c);

    /// <summary><c>*x·w + acc</c>, fused, <c>*x</c> in every lane (one instruction with an embedded broadcast).</summary>
    static abstract TV MultiplyAddBroadcast(float* x, TV w, TV acc);

    /// <summary>Lane-wise sum.</summary>
    static abstract TV Add(TV a, TV b);

    /// <summary>Lane-wise difference.</summary>
    static abstract TV Subtract(TV a, TV b);

    /// <summary>Lane-wise product.</summary>
    static abstract TV Multiply(TV a, TV b);

    /// <summary>Lane-wise maximum.</summary>
    static abstract TV Max(TV a, TV b);
}

/// <summary>16 floats in a <see cref="Vector512{T}"/>.</summary>
internal readonly unsafe struct Lanes16 : ILanes<Vector512<float>>
{
    public static int Count => 16;

    public static Vector512<float> Zero => Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Broadcast(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* source) => Vector512.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> value, float* destination) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAddBroadcast(float* x, Vector512<float> w, Vector512<float> acc) => Vector512.FusedMultiplyAdd(Vector512.Create(*x), w, acc);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);
}

/// <summary>8 floats in a <see cref="Vector256{T}"/>.</summary>
internal readonly unsafe struct Lanes8 : ILanes<Vector256<float>>
{
    public static int Count => 8;

    public static Vector256<float> Zero => Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Broadcast(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* source) => Vector256.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> value, float* destination) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAddBroadcast(float* x, Vector256<float> w, Vector256<float> acc) => Vector256.FusedMultiplyAdd(Vector256.Create(*x), w, acc);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);
}
