using System;
using System.Globalization;
using System.IO;
using System.Linq;
using PruneGen.Benchmarks.Workloads;
using PruneGen.Kernels;
using Spectre.Console;

namespace PruneGen.Benchmarks.Quick;

/// <summary>
/// <c>convs</c>: single convolutions of the reference networks — their 3×3 layers, the first layers on the grey image,
/// the tiny ResNet's stride-2 layers, and VggNet's and the tiny ResNet's pruned to a quarter of their MACs — timed on their own at the process's
/// thread count (set PRUNEGEN_THREADS=1 for one thread): the forward kernel at batch 1 and 64, the backward kernel
/// (weight, bias and input gradients) at batch 64, and the kernel's matrix product alone on ready-made columns, so the
/// cost around the product (unfolding, the store) shows as the difference. PRUNEGEN_CONVS=text times only the layers whose name
/// contains it; <c>--forward</c> times the forward kernel only.
/// </summary>
public static class ConvProfile
{
    /// <summary>Runs the profile and prints one table.</summary>
    public static int Run(string[] args)
    {
        var rounds = Sampling.ProfileRounds(args);
        var forwardOnly = args.Contains("--forward");

        var table = new Table { Title = new TableTitle($"Convolutions alone, {WorkerPool.Workers} thread(s), median [[fastest]] µs of {rounds} blocks (GFLOP/s at the median), load {File.ReadAllText("/proc/loadavg").Trim()}") };
        foreach (var h in new[] { "layer", "forward b1", "forward b64", "product alone b64", "backward b64" })
        {
            table.AddColumn(new TableColumn(h).RightAligned());
        }

        Row<Conv<N1, N32, N28, N3, N1>>(table, "VGG conv1 1→32 @28²", rounds, forwardOnly);
        Row<Conv<N32, N32, N28, N3, N1>>(table, "VGG conv2 32→32 @28²", rounds, forwardOnly);
        Row<Conv<N64, N64, N14, N3, N1>>(table, "VGG conv4 64→64 @14²", rounds, forwardOnly);
        Row<Conv<N128, N128, N7, N3, N1>>(table, "VGG conv6 128→128 @7²", rounds, forwardOnly);
        Row<Conv<N16, N16, N28, N3, N1>>(table, "ResNet 16→16 @28²", rounds, forwardOnly);
        Row<Conv<N32, N32, N14, N3, N1>>(table, "ResNet 32→32 @14²", rounds, forwardOnly);
        Row<Conv<N64, N64, N7, N3, N1>>(table, "ResNet 64→64 @7²", rounds, forwardOnly);
        Row<Conv<N1, N16, N28, N3, N1>>(table, "ResNet stem 1→16 @28²", rounds, forwardOnly);
        Row<Conv<N16, N32, N28, N3, N2>>(table, "ResNet 16→32 @28² stride 2", rounds, forwardOnly);
        Row<Conv<N16, N32, N28, N1, N2>>(table, "ResNet 1×1 16→32 @28² stride 2", rounds, forwardOnly);
        Row<Conv<N32, N64, N14, N3, N2>>(table, "ResNet 32→64 @14² stride 2", rounds, forwardOnly);
        Row<Conv<N32, N64, N14, N1, N2>>(table, "ResNet 1×1 32→64 @14² stride 2", rounds, forwardOnly);
        Row<Conv<N1, N6, N28, N5, N1>>(table, "LeNet conv1 1→6 5×5 @28²", rounds, forwardOnly);
        Row<Conv<N1, N8, N28, N3, N1>>(table, "ResNet L1 4× stem 1→8 @28²", rounds, forwardOnly);
        Row<Conv<N11, N11, N28, N3, N1>>(table, "ResNet L1 2× 11→11 @28²", rounds, forwardOnly);
        Row<Conv<N23, N23, N14, N3, N1>>(table, "ResNet L1 2× 23→23 @14²", rounds, forwardOnly);
        Row<Conv<N45, N45, N7, N3, N1>>(table, "ResNet L1 2× 45→45 @7²", rounds, forwardOnly);
        Row<Conv<N8, N8, N28, N3, N1>>(table, "ResNet L1 4× 8→8 @28²", rounds, forwardOnly);
        Row<Conv<N8, N16, N28, N3, N2>>(table, "ResNet L1 4× 8→16 @28² stride 2", rounds, forwardOnly);
        Row<Conv<N8, N16, N28, N1, N2>>(table, "ResNet L1 4× 1×1 8→16 @28² stride 2", rounds, forwardOnly);
        Row<Conv<N16, N16, N14, N3, N1>>(table, "ResNet L1 4× 16→16 @14²", rounds, forwardOnly);
        Row<Conv<N16, N31, N14, N3, N2>>(table, "ResNet L1 4× 16→31 @14² stride 2", rounds, forwardOnly);
        Row<Conv<N16, N31, N14, N1, N2>>(table, "ResNet L1 4× 1×1 16→31 @14² stride 2", rounds, forwardOnly);
        Row<Conv<N31, N31, N7, N3, N1>>(table, "ResNet L1 4× 31→31 @7²", rounds, forwardOnly);
        Row<Conv<N16, N16, N28, N3, N1>>(table, "VGG L1 4× conv2 16→16 @28²", rounds, forwardOnly);
        Row<Conv<N32, N32, N14, N3, N1>>(table, "VGG L1 4× conv4 32→32 @14²", rounds, forwardOnly);
        Row<Conv<N63, N63, N7, N3, N1>>(table, "VGG L1 4× conv6 63→63 @7²", rounds, forwardOnly);
        Row<Conv<N22, N22, N28, N3, N1>>(table, "VGG L1 2× conv2 22→22 @28²", rounds, forwardOnly);
        Row<Conv<N22, N45, N14, N3, N1>>(table, "VGG L1 2× conv3 22→45 @14²", rounds, forwardOnly);
        AnsiConsole.Write(table);
        return 0;
    }

    private static unsafe void Row<TShape>(Table table, string name, int rounds, bool forwardOnly)
        where TShape : IConv2DShape
    {
        var only = Environment.GetEnvironmentVariable("PRUNEGEN_CONVS");
        if (!string.IsNullOrEmpty(only) && !name.Contains(only, StringComparison.Ordinal))
        {
            return;
        }

        const int Batch = 64;
        int patch = TShape.InChannels * TShape.Kernel * TShape.Kernel, spatial = TShape.OutHeight * TShape.OutWidth;
        var columns = (spatial + 15) / 16 * 16;
        var random = new Random(7);
        float[] Fill(int length)
        {
            var data = new float[length];
            for (var i = 0; i < data.Length; i++)
            {
                data[i] = (float)(random.NextDouble() - 0.5);
            }

            return data;
        }

        var x = Fill(Batch * TShape.InChannels * TShape.InHeight * TShape.InWidth);
        var w = Fill(TShape.OutChannels * patch);
        var b = Fill(TShape.OutChannels);
        var y = new float[Batch * TShape.OutChannels * spatial];
        var dy = Fill(y.Length);
        var (dx, dw, db) = (new float[x.Length], new float[w.Length], new float[b.Length]);
        var scratch = new float[Conv2DKernel<TShape>.ScratchLength * WorkerPool.Workers];
        var backwardScratch = new float[Conv2DKernel<TShape>.BackwardScratchLength * WorkerPool.Workers];
        var cols = Fill(patch * columns);
        var product = new float[TShape.OutChannels * columns];

        // At least 60 calls before timing, as for training steps: a kernel called once per call (the backward's
        // products) is recompiled with full optimization only after 30 calls, and `perf` showed unoptimized code in
        // the backward column's timed blocks with 0.3 s of warm-up alone.
        Stats Time(Action action) => Stats.Of(Sampling.Repeat(action, rounds, warmSeconds: 0.3, warmCalls: 60));
        string Cell(Stats micros, double flops) => $"{micros.Median.ToString("F1", CultureInfo.InvariantCulture)} [[{micros.Min.ToString("F1", CultureInfo.InvariantCulture)}]] ({(flops / micros.Median / 1e3).ToString("F0", CultureInfo.InvariantCulture)})";
        var flop = 2.0 * TShape.OutChannels * spatial * patch;

        var forward1 = Time(() => Conv2DKernel<TShape>.Forward(x, w, b, y, 1, scratch));
        var forward64 = Time(() => Conv2DKernel<TShape>.Forward(x, w, b, y, Batch, scratch));
        if (forwardOnly)
        {
            table.AddRow(name, Cell(forward1, flop), Cell(forward64, Batch * flop), "-", "-");
            return;
        }

        var alone = Time(() =>
        {
            fixed (float* pw = w, pc = cols, pp = product)
            {
                for (var n = 0; n < Batch; n++)
                {
                    Gemm.MultiplyNN(TShape.OutChannels, columns, patch, pw, patch, pc, columns, pp, columns, accumulate: false);
                }
            }
        });
        var backward = Time(() => Conv2DKernel<TShape>.Backward(x, w, dy, dx, dw, db, Batch, backwardScratch));
        table.AddRow(name, Cell(forward1, flop), Cell(forward64, Batch * flop), Cell(alone, Batch * flop), Cell(backward, 2 * Batch * flop));
    }
}
