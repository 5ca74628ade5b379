using System.Globalization;
using System.Text;
using PruneGen.Model;

namespace PruneGen.Tests.Numerics;

/// <summary>Seeded random parameters and inputs, and the tolerance check the numerics tests share.</summary>
internal static class Numerics
{
    /// <summary>The relative tolerance of the brief: |ours − ref| ≤ 1e-5 · max(1, |ref|).</summary>
    public const double RelativeTolerance = 1e-5;

    /// <summary>
    /// Runs <paramref name="call"/> at least 50 times and for at least 0.5 s, then until two calls in a row allocate
    /// nothing on this thread (at most 1 000 calls or 10 s in all), so one-time work is over before a test measures
    /// per-call allocations: workspaces sized on first use, and the runtime's tiered compilation, which promotes a
    /// method after 30 calls and a delay and may allocate on the calling thread when it does. Code that allocates
    /// on every call still fails the measurement that follows.
    /// </summary>
    public static void WarmUpUntilAllocationFree(Action call)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var clean = 0;
        for (var i = 0; i < 1000 && clock.Elapsed < TimeSpan.FromSeconds(10) && (i < 50 || clock.Elapsed < TimeSpan.FromSeconds(0.5) || clean < 2); i++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            call();
            clean = GC.GetAllocatedBytesForCurrentThread() == before ? clean + 1 : 0;
        }
    }

    /// <summary>
    /// The fewest bytes <paramref name="call"/> allocated on this thread in <paramref name="tries"/> tries (stopping at
    /// the first that allocates nothing). Code that allocates on every call — a workspace re-sized, a closure, a boxed
    /// value — allocates in every try and still fails; a one-time allocation of the runtime that lands in a measured
    /// call now and then (a tier-up, or runtime bookkeeping while another test runs beside this one: a clean-clone CI
    /// run once saw 7 616 bytes in one LeNet5 call that never reproduced) does not fail the test.
    /// </summary>
    public static long FewestAllocatedBytes(Action call, int tries = 3)
    {
        var fewest = long.MaxValue;
        for (var i = 0; i < tries && fewest > 0; i++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            call();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return fewest;
    }

    /// <summary>
    /// Fills every parameter with seeded random values that make each layer do real work: He-uniform
    /// weights (so activations stay O(1) through deep stacks), non-zero biases, and BatchNorm
    /// statistics far from the identity (γ ∈ [0.5, 1.5], β, μ ∈ [−0.5, 0.5], σ² ∈ [0.5, 2]).
    /// </summary>
    public static void Randomize(INetwork network, int seed)
    {
        var random = new Random(seed);
        float Uniform(double lo, double hi) => (float)(lo + ((hi - lo) * random.NextDouble()));
        foreach (var layer in network.Graph.Layers)
        {
            foreach (var spec in layer.Parameters)
            {
                var data = network.Parameters[spec.Name].Data;
                var suffix = spec.Name[(spec.Name.LastIndexOf('.') + 1)..];
                var bound = suffix == "weight" && layer.Kind != LayerKind.BatchNorm ? Math.Sqrt(6.0 / (spec.Length / spec.Shape[0])) : 0;
                for (var i = 0; i < data.Length; i++)
                {
                    data[i] = (layer.Kind, suffix) switch
                    {
                        (LayerKind.BatchNorm, "weight") => Uniform(0.5, 1.5),
                        (LayerKind.BatchNorm, "running_var") => Uniform(0.5, 2),
                        (LayerKind.BatchNorm, _) => Uniform(-0.5, 0.5),
                        (_, "weight") => Uniform(-bound, bound),
                        _ => Uniform(-0.5, 0.5),
                    };
                }
            }
        }
    }

    /// <summary><paramref name="length"/> seeded values uniform in [<paramref name="lo"/>, <paramref name="hi"/>).</summary>
    public static float[] RandomInput(int length, int seed, double lo = -1, double hi = 1)
    {
        var random = new Random(seed);
        var x = new float[length];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = (float)(lo + ((hi - lo) * random.NextDouble()));
        }

        return x;
    }

    /// <summary>Asserts |actual − expected| ≤ tol · max(1, |expected|) everywhere, listing the worst offenders otherwise.</summary>
    public static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, string what, double tolerance = RelativeTolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        var bad = new List<(int Index, double Error)>();
        var worst = 0.0;
        for (var i = 0; i < expected.Length; i++)
        {
            var error = Math.Abs((double)actual[i] - expected[i]) / Math.Max(1, Math.Abs((double)expected[i]));
            worst = Math.Max(worst, double.IsNaN(error) ? double.PositiveInfinity : error);
            if (!(error <= tolerance))
            {
                bad.Add((i, error));
            }
        }

        if (bad.Count == 0)
        {
            return;
        }

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{what}: {bad.Count} of {expected.Length} values off by more than {tolerance:G3} (relative, floor 1); worst {worst:G3}. First:");
        foreach (var (i, e) in bad.Take(8))
        {
            sb.Append(CultureInfo.InvariantCulture, $" [{i}] ours {actual[i]:R} ref {expected[i]:R} (err {e:G3});");
        }

        Assert.Fail(sb.ToString());
    }
}
