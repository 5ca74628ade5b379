namespace PruneGen.Data;

/// <summary>
/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, fast generator whose output is fixed by its seed on every
/// platform and runtime, unlike <see cref="System.Random"/>'s unspecified algorithm. Also a good 64-bit mixer.
/// </summary>
internal struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    /// <summary>The next 64 random bits.</summary>
    public ulong Next()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>A uniform integer in [0, <paramref name="bound"/>) (Lemire's multiply-shift; bias below 2⁻³² for bounds under 2³²).</summary>
    public int NextInt(int bound) => (int)(((Next() >> 32) * (ulong)(uint)bound) >> 32);

    /// <summary>The SplitMix64 finalizer: a bijective 64-bit mix.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A well-mixed seed for stream <paramref name="stream"/> of <paramref name="seed"/> (e.g. an epoch).</summary>
    public static ulong Derive(ulong seed, ulong stream, ulong purpose) =>
        Mix(Mix(seed ^ (purpose * 0xD6E8FEB86659FD93UL)) + (stream * 0x9E3779B97F4A7C15UL));
}
