using System.Runtime.Intrinsics;
using PruneGen.Kernels;

namespace PruneGen.Tests.Numerics;

public class SimdTests
{
    private static SimdLevel Best => Vector512.IsHardwareAccelerated ? SimdLevel.Vector512
        : Vector256.IsHardwareAccelerated ? SimdLevel.Vector256
        : SimdLevel.Scalar;

    [Fact]
    public void ChooseMapsTheEnvironmentValuesAndNeverExceedsTheHardware()
    {
        // Unset or unknown: the widest the hardware accelerates.
        Assert.Equal(Best, Simd.Choose(null));
        Assert.Equal(Best, Simd.Choose(string.Empty));
        Assert.Equal(Best, Simd.Choose("avx9000"));

        // Explicit requests, case- and whitespace-insensitive, capped at what the hardware has.
        Assert.Equal(Best, Simd.Choose("512"));
        var v256 = Best >= SimdLevel.Vector256 ? SimdLevel.Vector256 : SimdLevel.Scalar;
        Assert.Equal(v256, Simd.Choose("256"));
        Assert.Equal(v256, Simd.Choose(" 256 "));
        Assert.Equal(SimdLevel.Scalar, Simd.Choose("scalar"));
        Assert.Equal(SimdLevel.Scalar, Simd.Choose("Scalar"));
        Assert.Equal(SimdLevel.Scalar, Simd.Choose("1"));
    }

    [Fact]
    public void LevelFollowsThisProcesssEnvironment() =>
        Assert.Equal(Simd.Choose(Environment.GetEnvironmentVariable("PRUNEGEN_SIMD")), Simd.Level);
}
