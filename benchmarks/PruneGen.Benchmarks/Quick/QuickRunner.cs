using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using PruneGen.Benchmarks.Workloads;
using PruneGen.Kernels;
using Spectre.Console;

namespace PruneGen.Benchmarks.Quick;

/// <summary>One inference comparison: times in µs, ratio = ORT / PruneGen per alternating round.</summary>
public sealed record InferenceRow(string Network, int Batch, int Threads, Stats PruneGen, Stats Ort, Stats Ratio, double MaxRelativeError, double PruneGenFirstCallUs, double OrtFirstCallUs, double OrtSessionMs);

/// <summary>One training-step measurement: times in ms.</summary>
public sealed record TrainingRow(string Network, int Batch, int Threads, Stats StepMs, double ForwardMs, double BackwardMs, double UpdateMs, float Loss);

/// <summary>
/// <c>quick</c>: a table for humans, without BenchmarkDotNet. Runs every comparison at one thread (in
/// a child process started with <c>PRUNEGEN_THREADS=1</c>, since PruneGen reads it once per process)
/// and with the default pool (this process), then GEMM and the machine's FMA peak.
/// </summary>
public static class QuickRunner
{
    private const string ChildVariable = "PRUNEGEN_BENCH_CHILD";
    private const string RowPrefix = "ROW ";

    /// <summary>The peak measured earlier on the project's machine kind (docs/ENGINEERING.md), GFLOP/s per core.</summary>
    public const double DocumentedPeakPerCore = 173;

    /// <summary>Runs quick mode. Options: <c>--rounds N</c>, <c>--markdown</c>, <c>--networks a,b</c>, <c>--batches 1,64</c>, <c>--no-training</c>, <c>--no-gemm</c>.</summary>
    public static int Run(string[] args)
    {
        var options = QuickOptions.Parse(args);
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = 200; // keep table rows on one line in logs
        }

        if (Environment.GetEnvironmentVariable(ChildVariable) == "1")
        {
            foreach (var line in MeasureRows(options, log: Console.Error))
            {
                Console.Out.WriteLine(RowPrefix + line);
            }

            return 0;
        }

        var header = Header();
        foreach (var line in header)
        {
            AnsiConsole.MarkupLineInterpolated($"[grey]{line}[/]");
        }

        var inference = new List<InferenceRow>();
        var training = new List<TrainingRow>();
        if (WorkerPool.Workers > 1)
        {
            AnsiConsole.MarkupLine("[grey]1 thread (child process with PRUNEGEN_THREADS=1)…[/]");
            foreach (var line in RunChild(args))
            {
                Collect(line, inference, training);
            }
        }

        AnsiConsole.MarkupLineInterpolated($"[grey]{WorkerPool.Workers} thread(s) (this process)…[/]");
        foreach (var line in MeasureRows(options, log: Console.Out))
        {
            Collect(line, inference, training);
        }

        var tables = new List<(string Title, string[] Headers, List<string[]> Rows)>();
        tables.Add(("Inference latency: PruneGen Forward vs ONNX Runtime Run (median of alternating rounds, min–max)", InferenceHeaders, inference
            .OrderBy(r => NetworkOrder(r.Network)).ThenBy(r => r.Batch).ThenBy(r => r.Threads).Select(InferenceCells).ToList()));
        tables.Add(("First call after construction (cold JIT for PruneGen; ONNX Runtime after its session is created)", FirstCallHeaders, inference
            .Where(r => r.Batch == 1).OrderBy(r => NetworkOrder(r.Network)).ThenBy(r => r.Threads).Select(FirstCallCells).ToList()));
        var speedUps = RealizedSpeedUps(inference, training);
        if (speedUps.Count > 0)
        {
            tables.Add(("Realized pruning speed-up: base ÷ pruned latency (medians of this run) against the MAC ratio", SpeedUpHeaders, speedUps));
        }

        if (training.Count > 0)
        {
            tables.Add(("Training step (TrainForward + SoftmaxCrossEntropy + Backward + Sgd.Update)", TrainingHeaders, training
                .OrderBy(r => NetworkOrder(r.Network)).ThenBy(r => r.Threads).Select(TrainingCells).ToList()));
        }

        if (options.Gemm)
        {
            AnsiConsole.MarkupLine("[grey]GEMM and FMA peak…[/]");
            var peak1 = PeakProbe.Measure(1);
            var peak2 = Environment.ProcessorCount > 1 ? PeakProbe.Measure(2) : double.NaN;
            tables.Add(($"Machine FMA peak (register-only Vector{PeakProbe.VectorBits} FMA chains, best of 5)", new[] { "Threads", "GFLOP/s" }, new List<string[]>
            {
                new[] { "1", F(peak1, "F1") },
                new[] { "2", F(peak2, "F1") },
            }));
            var gemmRows = new List<string[]>();
            foreach (var shape in GemmWorkload.Shapes.Concat(GemmWorkload.EdgeShapes))
            {
                using var gemm = new GemmWorkload(shape.M, shape.N, shape.K);
                var times = Stats.Of(Sampling.Repeat(gemm.Run, options.Rounds));
                var gflops = gemm.Flops / times.Median / 1e3;
                gemmRows.Add(new[]
                {
                    $"{shape.M}×{shape.N}×{shape.K}",
                    Range(times, "F1"),
                    F(gflops, "F1"),
                    $"{gemm.Flops / times.Max / 1e3:F1}–{gemm.Flops / times.Min / 1e3:F1}",
                    F(100 * gflops / peak1, "F0") + " %",
                    F(100 * gflops / DocumentedPeakPerCore, "F0") + " %",
                });
            }

            tables.Add(("Gemm.MultiplyNN, 1 thread", new[] { "M×N×K", "µs (min–max)", "GFLOP/s", "GFLOP/s range", "of peak measured now", $"of {DocumentedPeakPerCore:F0} (ENGINEERING.md)" }, gemmRows));
        }

        foreach (var (title, headers, rows) in tables)
        {
            Render(title, headers, rows, options.Markdown);
        }

        AnsiConsole.MarkupLineInterpolated($"[grey]load after: {LoadAverage()}[/]");
        return 0;
    }

    private static readonly string[] SpeedUpHeaders =
        { "Pruned network", "Base", "Measure", "Batch", "Threads", "base", "pruned", "speed-up", "MAC ratio", "speed-up ÷ MAC ratio" };

    /// <summary>
    /// Each pruned network measured in this run next to its base at the same batch and thread count: inference latency
    /// (µs) and, where both were trained, the training step (ms).
    /// </summary>
    private static List<string[]> RealizedSpeedUps(List<InferenceRow> inference, List<TrainingRow> training)
    {
        var rows = new List<string[]>();
        void Add(string pruned, string measure, int batch, int threads, double baseTime, double prunedTime, string digits)
        {
            var baseName = ReferenceNetworks.BaseOf(pruned);
            var macRatio = (double)ReferenceNetworks.Macs(baseName) / ReferenceNetworks.Macs(pruned);
            var speedUp = baseTime / prunedTime;
            rows.Add(new[]
            {
                pruned, baseName, measure, batch.ToString(CultureInfo.InvariantCulture), threads.ToString(CultureInfo.InvariantCulture),
                F(baseTime, digits), F(prunedTime, digits), F(speedUp, "F2"), F(macRatio, "F2"), F(speedUp / macRatio, "F2"),
            });
        }

        foreach (var r in inference.Where(r => ReferenceNetworks.Pruned.Contains(r.Network)).OrderBy(r => NetworkOrder(r.Network)).ThenBy(r => r.Batch).ThenBy(r => r.Threads))
        {
            var b = inference.FirstOrDefault(x => x.Network == ReferenceNetworks.BaseOf(r.Network) && x.Batch == r.Batch && x.Threads == r.Threads);
            if (b != null)
            {
                Add(r.Network, "inference µs", r.Batch, r.Threads, b.PruneGen.Median, r.PruneGen.Median, "F0");
            }
        }

        foreach (var r in training.Where(r => ReferenceNetworks.Pruned.Contains(r.Network)).OrderBy(r => NetworkOrder(r.Network)).ThenBy(r => r.Threads))
        {
            var b = training.FirstOrDefault(x => x.Network == ReferenceNetworks.BaseOf(r.Network) && x.Batch == r.Batch && x.Threads == r.Threads);
            if (b != null)
            {
                Add(r.Network, "training step ms", r.Batch, r.Threads, b.StepMs.Median, r.StepMs.Median, "F1");
            }
        }

        return rows;
    }

    private static readonly string[] InferenceHeaders =
        { "Network", "Batch", "Threads", "PruneGen µs", "ORT µs", "ORT/PruneGen", "PruneGen GFLOP/s", "max rel. diff" };

    private static readonly string[] FirstCallHeaders =
        { "Network", "Batch", "Threads", "PruneGen first Forward µs", "× its median", "ORT session creation ms", "ORT first Run µs", "× its median" };

    private static string[] FirstCallCells(InferenceRow r) => new[]
    {
        r.Network,
        r.Batch.ToString(CultureInfo.InvariantCulture),
        r.Threads.ToString(CultureInfo.InvariantCulture),
        F(r.PruneGenFirstCallUs, "F0"),
        F(r.PruneGenFirstCallUs / r.PruneGen.Median, "F0"),
        F(r.OrtSessionMs, "F1"),
        F(r.OrtFirstCallUs, "F0"),
        F(r.OrtFirstCallUs / r.Ort.Median, "F0"),
    };

    private static readonly string[] TrainingHeaders =
        { "Network", "Batch", "Threads", "Step ms (min–max)", "img/s", "TrainForward ms", "Backward ms", "Sgd.Update ms", "loss" };

    private static string[] InferenceCells(InferenceRow r) => new[]
    {
        r.Network,
        r.Batch.ToString(CultureInfo.InvariantCulture),
        r.Threads.ToString(CultureInfo.InvariantCulture),
        Range(r.PruneGen, Digits(r.PruneGen.Median)),
        Range(r.Ort, Digits(r.Ort.Median)),
        $"{r.Ratio.Median:F2} ({r.Ratio.Min:F2}–{r.Ratio.Max:F2})",
        F(2.0 * ReferenceNetworks.Macs(r.Network) * r.Batch / r.PruneGen.Median / 1e3, "F1"),
        r.MaxRelativeError.ToString("0.0e0", CultureInfo.InvariantCulture),
    };

    private static string[] TrainingCells(TrainingRow r) => new[]
    {
        r.Network,
        r.Batch.ToString(CultureInfo.InvariantCulture),
        r.Threads.ToString(CultureInfo.InvariantCulture),
        Range(r.StepMs, Digits(r.StepMs.Median)),
        F(r.Batch / (r.StepMs.Median / 1e3), "F0"),
        F(r.ForwardMs, Digits(r.ForwardMs) == "F0" ? "F0" : "F2"),
        F(r.BackwardMs, Digits(r.BackwardMs) == "F0" ? "F0" : "F2"),
        F(r.UpdateMs, "F2"),
        F(r.Loss, "F3"),
    };

    /// <summary>
    /// Training steps run before a training step is timed (at least; or a second, if that is more). A step calls most
    /// of its methods once or a few times, and the runtime recompiles a method with full optimization only after 30
    /// calls, while a second held only ~10 steps of the base networks: `perf` still showed unoptimized kernel code
    /// (out-of-line vector calls) in the timed steps. With 60 steps the steps measured 3–7 % faster (VggNet 103 →
    /// 97 ms, VggNetL1Half 59.4 → 55.5 ms, 2026-12-07), base and pruned alike.
    /// </summary>
    private const int TrainingWarmCalls = 60;

    /// <summary>Measures this process's rows (its own thread count) and returns them serialized, one per line.</summary>
    private static IEnumerable<string> MeasureRows(QuickOptions options, TextWriter log)
    {
        var threads = WorkerPool.Workers;
        foreach (var name in options.Networks)
        {
            foreach (var batch in options.Batches)
            {
                var pgNetwork = ReferenceNetworks.CreateForInference(name);
                var ortNetwork = ReferenceNetworks.CreateForInference(name);
                var images = ReferenceNetworks.RandomImages(pgNetwork, batch, seed: 5);
                var pruneGen = new PruneGenRunner(pgNetwork, images, batch);
                var clock = Stopwatch.StartNew();
                using var ort = new OrtRunner(ortNetwork, images, batch, threads);
                var sessionMs = clock.Elapsed.TotalMilliseconds;
                clock.Restart();
                pruneGen.Run();
                var pgFirst = clock.Elapsed.TotalMicroseconds;
                clock.Restart();
                ort.Run();
                var ortFirst = clock.Elapsed.TotalMicroseconds;
                var error = OutputComparison.MaxRelativeError(ort.Output, pruneGen.Output);
                var (pg, rt) = Sampling.Alternate(pruneGen.Run, ort.Run, options.Rounds);
                var ratio = rt.Zip(pg, (o, p) => o / p).ToArray();
                var row = new InferenceRow(name, batch, threads, Stats.Of(pg), Stats.Of(rt), Stats.Of(ratio), error, pgFirst, ortFirst, sessionMs);
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-10} batch {batch,2}, {threads} thr: PruneGen {row.PruneGen.Median,9:F1} µs, ORT {row.Ort.Median,9:F1} µs, ratio {row.Ratio.Median:F2}"));
                yield return "I" + JsonSerializer.Serialize(row);
            }
        }

        if (!options.Training)
        {
            yield break;
        }

        foreach (var name in options.Networks)
        {
            var step = new TrainingStep(name, 64);
            var rounds = Math.Max(5, options.Rounds / 2);
            var times = Sampling.Repeat(step.Run, rounds, warmCalls: TrainingWarmCalls).Select(us => us / 1e3).ToArray();
            var phases = Enumerable.Range(0, rounds).Select(_ => step.RunTimed()).ToArray();
            var row = new TrainingRow(name, step.Batch, threads, Stats.Of(times),
                Stats.Of(phases.Select(p => p.Forward).ToArray()).Median,
                Stats.Of(phases.Select(p => p.Backward).ToArray()).Median,
                Stats.Of(phases.Select(p => p.Update).ToArray()).Median,
                step.LastLoss);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-10} train step batch 64, {threads} thr: {row.StepMs.Median:F2} ms"));
            yield return "T" + JsonSerializer.Serialize(row);
        }
    }

    private static void Collect(string line, List<InferenceRow> inference, List<TrainingRow> training)
    {
        if (line.StartsWith('I'))
        {
            inference.Add(JsonSerializer.Deserialize<InferenceRow>(line[1..])!);
        }
        else if (line.StartsWith('T'))
        {
            training.Add(JsonSerializer.Deserialize<TrainingRow>(line[1..])!);
        }
    }

    /// <summary>Runs this program again with PRUNEGEN_THREADS=1 and returns the rows it printed.</summary>
    private static List<string> RunChild(string[] args)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        var processPath = Environment.ProcessPath!;
        start.FileName = processPath;
        if (Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["PRUNEGEN_THREADS"] = "1";
        start.Environment[ChildVariable] = "1";
        using var child = Process.Start(start) ?? throw new InvalidOperationException("Could not start the 1-thread child process.");
        var rows = new List<string>();
        string? line;
        while ((line = child.StandardOutput.ReadLine()) is not null)
        {
            if (line.StartsWith(RowPrefix, StringComparison.Ordinal))
            {
                rows.Add(line[RowPrefix.Length..]);
            }
            else
            {
                Console.WriteLine(line);
            }
        }

        child.WaitForExit();
        if (child.ExitCode != 0)
        {
            throw new InvalidOperationException($"The 1-thread child process failed (exit code {child.ExitCode}).");
        }

        return rows;
    }

    private static List<string> Header()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        return new List<string>
        {
            string.Create(CultureInfo.InvariantCulture, $"date: {DateTime.Now:yyyy-MM-dd HH:mm zzz}"),
            $"CPU: {cpu ?? RuntimeInformation.ProcessArchitecture.ToString()}, {Environment.ProcessorCount} logical processors",
            $"runtime: {RuntimeInformation.FrameworkDescription}, PruneGen SIMD {Simd.Level}, ONNX Runtime {OrtEnv.Instance().GetVersionString()}",
            $"load before: {LoadAverage()}",
        };
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) + " (1/5/15 min)" : "unknown";

    private static void Render(string title, string[] headers, List<string[]> rows, bool markdown)
    {
        if (markdown)
        {
            Console.WriteLine();
            Console.WriteLine($"**{title}**");
            Console.WriteLine();
            Console.WriteLine("| " + string.Join(" | ", headers) + " |");
            Console.WriteLine("|" + string.Concat(headers.Select(_ => "---|")));
            foreach (var row in rows)
            {
                Console.WriteLine("| " + string.Join(" | ", row) + " |");
            }

            return;
        }

        var table = new Table { Title = new TableTitle(Markup.Escape(title)) };
        foreach (var h in headers)
        {
            table.AddColumn(new TableColumn(Markup.Escape(h)).RightAligned());
        }

        foreach (var row in rows)
        {
            table.AddRow(row.Select(Markup.Escape).ToArray());
        }

        AnsiConsole.Write(table);
    }

    private static int NetworkOrder(string name) => ReferenceNetworks.Names.Concat(ReferenceNetworks.Pruned).ToList().IndexOf(name);

    private static string Digits(double value) => value >= 100 ? "F0" : "F1";

    private static string Range(Stats s, string format) =>
        string.Create(CultureInfo.InvariantCulture, $"{s.Median.ToString(format, CultureInfo.InvariantCulture)} ({s.Min.ToString(format, CultureInfo.InvariantCulture)}–{s.Max.ToString(format, CultureInfo.InvariantCulture)})");

    private static string F(double value, string format) => double.IsNaN(value) ? "-" : value.ToString(format, CultureInfo.InvariantCulture);
}

/// <summary>Command-line options of quick mode.</summary>
public sealed record QuickOptions(int Rounds, bool Markdown, IReadOnlyList<string> Networks, bool Training, bool Gemm, IReadOnlyList<int> Batches)
{
    /// <summary>Parses <c>quick [--rounds N] [--markdown] [--networks a,b] [--batches 1,64] [--no-training] [--no-gemm]</c>.</summary>
    public static QuickOptions Parse(string[] args)
    {
        var options = new QuickOptions(21, false, ReferenceNetworks.Names, true, true, [1, 64]);
        for (var i = 1; i < args.Length; i++)
        {
            options = args[i] switch
            {
                "--rounds" when i + 1 < args.Length => options with { Rounds = Math.Max(3, int.Parse(args[++i], CultureInfo.InvariantCulture)) },
                "--markdown" => options with { Markdown = true },
                "--networks" when i + 1 < args.Length => options with { Networks = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                "--batches" when i + 1 < args.Length => options with { Batches = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(b => int.Parse(b, CultureInfo.InvariantCulture)).ToArray() },
                "--no-training" => options with { Training = false },
                "--no-gemm" => options with { Gemm = false },
                _ => throw new ArgumentException($"Unknown quick-mode option '{args[i]}'. Options: --rounds N, --markdown, --networks Mlp,LeNet5,VggNet,TinyResNet, --batches 1,64, --no-training, --no-gemm."),
            };
        }

        foreach (var name in options.Networks)
        {
            ReferenceNetworks.Create(name); // fails early on a typo
        }

        return options;
    }
}
