using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using PruneGen.Benchmarks.Workloads;
using PruneGen.Kernels;
using PruneGen.Onnx;
using Spectre.Console;

namespace PruneGen.Benchmarks.Quick;

/// <summary>
/// <c>layers</c>: where VggNet's inference time goes. Times each PruneGen kernel of the network on
/// its own (the same generic kernels the generated Forward calls, specialized on the same shapes),
/// and reads ONNX Runtime's per-node times from its profiler on the same model. Runs at the process's
/// thread count (set PRUNEGEN_THREADS=1 for one thread).
/// </summary>
public static class LayerProfile
{
    /// <summary>Runs the profile for batch 1 and 64 and prints one table per batch.</summary>
    public static int Run(string[] args)
    {
        var rounds = Sampling.ProfileRounds(args);

        AnsiConsole.MarkupLineInterpolated($"[grey]VggNet per layer, {WorkerPool.Workers} thread(s), load {File.ReadAllText("/proc/loadavg").Trim()}[/]");
        foreach (var batch in new[] { 1, 64 })
        {
            var rows = PruneGenLayers(batch, rounds);
            var ort = OrtNodes(batch);
            var table = new Table { Title = new TableTitle($"VggNet, batch {batch}, {WorkerPool.Workers} thread(s): PruneGen kernels (median µs of {rounds} blocks) vs ONNX Runtime nodes (profiler, mean µs)") };
            foreach (var h in new[] { "PruneGen layer", "µs", "GFLOP/s", "share" })
            {
                table.AddColumn(new TableColumn(h).RightAligned());
            }

            var total = rows.Sum(r => r.Micros);
            foreach (var (name, micros, flops) in rows)
            {
                table.AddRow(name, F(micros), flops > 0 ? F(flops / micros / 1e3) : "-", $"{100 * micros / total:F0} %");
            }

            table.AddRow("sum", F(total), "-", "100 %");
            AnsiConsole.Write(table);

            var ortTable = new Table { Title = new TableTitle($"ONNX Runtime nodes after graph optimization, batch {batch}") };
            foreach (var h in new[] { "ORT node (op)", "µs", "share" })
            {
                ortTable.AddColumn(new TableColumn(h).RightAligned());
            }

            var ortTotal = ort.Sum(r => r.Micros);
            foreach (var (name, micros) in ort)
            {
                ortTable.AddRow(Markup.Escape(name), F(micros), $"{100 * micros / ortTotal:F0} %");
            }

            ortTable.AddRow("sum", F(ortTotal), "100 %");
            AnsiConsole.Write(ortTable);
        }

        return 0;
    }

    private static string F(double v) => v.ToString(v >= 100 ? "F0" : "F1", CultureInfo.InvariantCulture);

    private static List<(string Name, double Micros, double Flops)> PruneGenLayers(int batch, int rounds)
    {
        var rows = new List<(string, double, double)>();
        var random = new Random(3);
        float[] Buffer(int n)
        {
            var b = new float[n];
            for (var i = 0; i < n; i++)
            {
                b[i] = (float)random.NextDouble() - 0.3f;
            }

            return b;
        }

        var scratch = new float[1152 * 784 * WorkerPool.Workers];
        void Conv<TShape>(string name)
            where TShape : IConv2DShape
        {
            var x = Buffer(batch * TShape.InChannels * TShape.InHeight * TShape.InWidth);
            var w = Buffer(TShape.OutChannels * TShape.InChannels * TShape.Kernel * TShape.Kernel);
            var b = Buffer(TShape.OutChannels);
            var y = new float[batch * TShape.OutChannels * TShape.OutHeight * TShape.OutWidth];
            var macs = (double)TShape.OutChannels * TShape.OutHeight * TShape.OutWidth * TShape.InChannels * TShape.Kernel * TShape.Kernel * batch;
            rows.Add((name, Median(() => Conv2DKernel<TShape>.Forward(x, w, b, y, batch, scratch), rounds), 2 * macs));
        }

        void Bn<TShape>(string name)
            where TShape : IChannelShape
        {
            var x = Buffer(batch * TShape.Channels * TShape.Spatial);
            var g = Buffer(TShape.Channels);
            var v = Buffer(TShape.Channels);
            for (var i = 0; i < v.Length; i++)
            {
                v[i] = Math.Abs(v[i]) + 0.5f;
            }

            var y = new float[x.Length];
            rows.Add((name, Median(() => BatchNormKernel<TShape>.Forward(x, g, g, g, v, y, batch), rounds), 0));
        }

        void Relu(string name, int size)
        {
            var x = Buffer(batch * size);
            var y = new float[x.Length];
            rows.Add((name, Median(() => ElementwiseKernels.ReLU(x, y), rounds), 0));
        }

        void Pool<TShape>(string name)
            where TShape : IPool2DShape
        {
            var x = Buffer(batch * TShape.Channels * TShape.InHeight * TShape.InWidth);
            var y = new float[batch * TShape.Channels * TShape.OutHeight * TShape.OutWidth];
            rows.Add((name, Median(() => Pool2DKernel<TShape>.MaxForward(x, y, batch), rounds), 0));
        }

        void Dense<TShape>(string name)
            where TShape : IDenseShape
        {
            var x = Buffer(batch * TShape.In);
            var w = Buffer(TShape.In * TShape.Out);
            var b = Buffer(TShape.Out);
            var y = new float[batch * TShape.Out];
            rows.Add((name, Median(() => DenseKernel<TShape>.Forward(x, w, b, y, batch), rounds), 2.0 * TShape.In * TShape.Out * batch));
        }

        Conv<Conv<N1, N32, N28, N3, N1>>("conv1 1→32 @28²");
        Bn<VggShapes.Bn32>("bn1");
        Relu("relu1", 32 * 784);
        Conv<Conv<N32, N32, N28, N3, N1>>("conv2 32→32 @28²");
        Bn<VggShapes.Bn32>("bn2");
        Relu("relu2", 32 * 784);
        Pool<VggShapes.Pool1>("maxpool1");
        Conv<Conv<N32, N64, N14, N3, N1>>("conv3 32→64 @14²");
        Bn<VggShapes.Bn64>("bn3");
        Relu("relu3", 64 * 196);
        Conv<Conv<N64, N64, N14, N3, N1>>("conv4 64→64 @14²");
        Bn<VggShapes.Bn64>("bn4");
        Relu("relu4", 64 * 196);
        Pool<VggShapes.Pool2>("maxpool2");
        Conv<Conv<N64, N128, N7, N3, N1>>("conv5 64→128 @7²");
        Bn<VggShapes.Bn128>("bn5");
        Relu("relu5", 128 * 49);
        Conv<Conv<N128, N128, N7, N3, N1>>("conv6 128→128 @7²");
        Bn<VggShapes.Bn128>("bn6");
        Relu("relu6", 128 * 49);
        Pool<VggShapes.Pool3>("maxpool3");
        Dense<VggShapes.Fc1>("fc1 1152→256");
        Relu("relu7", 256);
        Dense<VggShapes.Logits>("logits 256→10");
        return rows;
    }

    private static double Median(Action action, int rounds) => Stats.Of(Sampling.Repeat(action, rounds, warmSeconds: 0.3)).Median;

    /// <summary>Mean time per run of each ONNX Runtime node, from its profiler, largest first.</summary>
    private static List<(string Name, double Micros)> OrtNodes(int batch)
    {
        var network = ReferenceNetworks.CreateForInference("VggNet");
        var images = ReferenceNetworks.RandomImages(network, batch, seed: 5);
        var prefix = Path.Combine(Path.GetTempPath(), $"prunegen-ort-profile-{Environment.ProcessId}-{batch}");
        var model = OnnxExporter.Export(network);
        using var options = new SessionOptions
        {
            IntraOpNumThreads = WorkerPool.Workers,
            InterOpNumThreads = 1,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        using var session = new InferenceSession(model, options);
        using var input = OrtValue.CreateTensorValueFromMemory(images, new long[] { batch, 1, 28, 28 });
        var output = new float[batch * 10];
        using var outputValue = OrtValue.CreateTensorValueFromMemory(output, new long[] { batch, 10 });
        using var binding = session.CreateIoBinding();
        using var runOptions = new RunOptions();
        binding.BindInput(OnnxExporter.InputName, input);
        binding.BindOutput(OnnxExporter.OutputName, outputValue);
        Warmup.Run(() => session.RunWithBinding(runOptions, binding), 0.3);

        // Profiling is switched on for a second session over the same model so that warm-up stays out of the file.
        using var profiled = new SessionOptions
        {
            IntraOpNumThreads = WorkerPool.Workers,
            InterOpNumThreads = 1,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            EnableProfiling = true,
            ProfileOutputPathPrefix = prefix,
        };
        using var profiledSession = new InferenceSession(model, profiled);
        using var profiledBinding = profiledSession.CreateIoBinding();
        profiledBinding.BindInput(OnnxExporter.InputName, input);
        profiledBinding.BindOutput(OnnxExporter.OutputName, outputValue);
        const int runs = 50;
        for (var i = 0; i < 10 + runs; i++)
        {
            profiledSession.RunWithBinding(runOptions, profiledBinding);
        }

        var file = profiledSession.EndProfiling();
        var totals = new Dictionary<string, List<double>>();
        using (var document = JsonDocument.Parse(File.ReadAllText(file)))
        {
            foreach (var e in document.RootElement.EnumerateArray())
            {
                if (e.GetProperty("cat").GetString() != "Node" || !e.TryGetProperty("dur", out var dur))
                {
                    continue;
                }

                var name = e.GetProperty("name").GetString() ?? "";
                if (!name.EndsWith("_kernel_time", StringComparison.Ordinal))
                {
                    continue;
                }

                var op = e.TryGetProperty("args", out var a) && a.TryGetProperty("op_name", out var o) ? o.GetString() : "?";
                var key = $"{name[..^"_kernel_time".Length]} ({op})";
                if (!totals.TryGetValue(key, out var list))
                {
                    totals[key] = list = new List<double>();
                }

                list.Add(dur.GetDouble());
            }
        }

        File.Delete(file);

        // The first 10 runs of each node are warm-up; the rest are averaged.
        return totals.Select(kv => (kv.Key, kv.Value.Skip(10).DefaultIfEmpty(0).Average())).ToList();
    }
}

/// <summary>VggNet's layer shapes, the same constants the generator emits for it.</summary>
internal static class VggShapes
{
    public readonly struct Bn32 : IChannelShape
    {
        public static int Channels => 32;
        public static int Spatial => 784;
    }

    public readonly struct Bn64 : IChannelShape
    {
        public static int Channels => 64;
        public static int Spatial => 196;
    }

    public readonly struct Bn128 : IChannelShape
    {
        public static int Channels => 128;
        public static int Spatial => 49;
    }

    public readonly struct Pool1 : IPool2DShape
    {
        public static int Channels => 32;
        public static int InHeight => 28;
        public static int InWidth => 28;
        public static int OutHeight => 14;
        public static int OutWidth => 14;
        public static int Window => 2;
        public static int Stride => 2;
        public static int Padding => 0;
    }

    public readonly struct Pool2 : IPool2DShape
    {
        public static int Channels => 64;
        public static int InHeight => 14;
        public static int InWidth => 14;
        public static int OutHeight => 7;
        public static int OutWidth => 7;
        public static int Window => 2;
        public static int Stride => 2;
        public static int Padding => 0;
    }

    public readonly struct Pool3 : IPool2DShape
    {
        public static int Channels => 128;
        public static int InHeight => 7;
        public static int InWidth => 7;
        public static int OutHeight => 3;
        public static int OutWidth => 3;
        public static int Window => 2;
        public static int Stride => 2;
        public static int Padding => 0;
    }

    public readonly struct Fc1 : IDenseShape
    {
        public static int In => 1152;
        public static int Out => 256;
    }

    public readonly struct Logits : IDenseShape
    {
        public static int In => 256;
        public static int Out => 10;
    }
}
