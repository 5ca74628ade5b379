using System;
using System.Diagnostics;

namespace PruneGen.Examples;

/// <summary>Inference latency at batch 1 and 64, in milliseconds per forward pass.</summary>
/// <param name="Batch1">Median time of one batch-1 forward pass.</param>
/// <param name="Batch64">Median time of one batch-64 forward pass.</param>
internal sealed record Latency(double Batch1, double Batch64)
{
    /// <summary>
    /// Measures <paramref name="network"/>'s forward pass: one second of warm-up, then the median of 15 samples, each
    /// the mean of 50 runs at batch 1 or 3 runs at batch 64 (a median shrugs off the odd slow sample on a busy machine).
    /// </summary>
    /// <remarks>
    /// The warm-up is by time, not by count: a network compiled a moment ago runs its kernels' first, unoptimized
    /// JIT tier until the runtime has counted enough calls and recompiled them in the background (measured: a
    /// fresh pruned LeNet-5 took 0.73 ms at batch 1 in its first samples and 0.014 ms once tiered up).
    /// </remarks>
    public static Latency Measure(INetwork network) => new(Median(network, 1), Median(network, 64));

    private static double Median(INetwork network, int batch)
    {
        var input = new float[batch * network.InputSize];
        var output = new float[batch * network.OutputSize];
        var warmUp = Stopwatch.StartNew();
        for (var r = 0; r < 3 || warmUp.ElapsedMilliseconds < 1000; r++)
        {
            network.Forward(input, output, batch);
        }

        var samples = new double[15];
        var runs = batch == 1 ? 50 : 3;
        for (var i = 0; i < samples.Length; i++)
        {
            var clock = Stopwatch.StartNew();
            for (var r = 0; r < runs; r++)
            {
                network.Forward(input, output, batch);
            }

            samples[i] = clock.Elapsed.TotalMilliseconds / runs;
        }

        Array.Sort(samples);
        return samples[samples.Length / 2];
    }
}
