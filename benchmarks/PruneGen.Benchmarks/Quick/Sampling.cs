using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using Spectre.Console;

namespace PruneGen.Benchmarks.Quick;

/// <summary>Median and range of a set of samples.</summary>
/// <param name="Median">Median.</param>
/// <param name="Min">Smallest sample.</param>
/// <param name="Max">Largest sample.</param>
public sealed record Stats(double Median, double Min, double Max)
{
    /// <summary>Summarizes <paramref name="samples"/>.</summary>
    public static Stats Of(double[] samples)
    {
        var sorted = samples.OrderBy(x => x).ToArray();
        var n = sorted.Length;
        var median = n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
        return new Stats(median, sorted[0], sorted[^1]);
    }
}

/// <summary>
/// Timing without BenchmarkDotNet: each action is warmed up (so tiered JIT has reached its optimized
/// code), then timed in blocks of calls lasting about <see cref="BlockMilliseconds"/> each; with two
/// actions the blocks alternate (A B, B A, A B, …) so that both see the same machine load, with a
/// short pause before each block so that neither runtime's idle threads disturb the other.
/// </summary>
public static class Sampling
{
    /// <summary>Target length of one timed block.</summary>
    public const double BlockMilliseconds = 25;

    /// <summary>Per-call time in µs of each of <paramref name="rounds"/> alternating blocks of <paramref name="a"/> and <paramref name="b"/>.</summary>
    public static (double[] A, double[] B) Alternate(Action a, Action b, int rounds)
    {
        var callsA = Warm(a, 1.0, minCalls: 5);
        var callsB = Warm(b, 1.0, minCalls: 5);
        var timesA = new double[rounds];
        var timesB = new double[rounds];
        for (var r = 0; r < rounds; r++)
        {
            if (r % 2 == 0)
            {
                timesA[r] = Block(a, callsA);
                timesB[r] = Block(b, callsB);
            }
            else
            {
                timesB[r] = Block(b, callsB);
                timesA[r] = Block(a, callsA);
            }
        }

        return (timesA, timesB);
    }

    /// <summary>
    /// The <c>--rounds N</c> of a profile command (<c>layers</c>, <c>convs</c>; default 9); widens the tables when the
    /// output goes to a file, so their columns are not wrapped.
    /// </summary>
    public static int ProfileRounds(string[] args)
    {
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = 200;
        }

        return args.Length > 2 && args[1] == "--rounds" ? int.Parse(args[2], CultureInfo.InvariantCulture) : 9;
    }

    /// <summary>Per-call time in µs of each of <paramref name="rounds"/> blocks of <paramref name="action"/>.</summary>
    public static double[] Repeat(Action action, int rounds, double warmSeconds = 1.0, int warmCalls = 5)
    {
        var calls = Warm(action, warmSeconds, warmCalls);
        var times = new double[rounds];
        for (var r = 0; r < rounds; r++)
        {
            times[r] = Block(action, calls);
        }

        return times;
    }

    /// <summary>Runs the action for about <paramref name="seconds"/> (at least <paramref name="minCalls"/> calls), returns the calls that fill one block.</summary>
    private static int Warm(Action action, double seconds, int minCalls)
    {
        var clock = Stopwatch.StartNew();
        var calls = 0;
        while (calls < minCalls || (clock.Elapsed.TotalSeconds < seconds && calls < 2000))
        {
            action();
            calls++;
        }

        var perCall = clock.Elapsed.TotalMilliseconds / calls;
        return Math.Max(1, (int)(BlockMilliseconds / perCall));
    }

    private static double Block(Action action, int calls)
    {
        // Let the other runtime's idle worker threads stop spinning (ONNX Runtime's intra-op pool
        // busy-waits for milliseconds after a run: with a 3 ms pause PruneGen's 2-thread LeNet-5 ran
        // 2× slower than in a process of its own), then one untimed call brings this runtime's data
        // back into cache.
        Thread.Sleep(30);
        action();
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < calls; i++)
        {
            action();
        }

        return Stopwatch.GetElapsedTime(start).TotalMicroseconds / calls;
    }
}
