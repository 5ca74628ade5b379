using System;
using System.Globalization;
using System.Linq;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Perfolizer.Horology;
using PruneGen.Benchmarks.Workloads;

namespace PruneGen.Benchmarks.Benchmarks;

/// <summary>
/// Short jobs (one launch, 3 warm-up and 9 measured iterations of about 0.15 s) so that the whole
/// suite takes minutes. PruneGen's thread count is fixed per process by <c>PRUNEGEN_THREADS</c>, so
/// each thread count is its own job (its own process); ONNX Runtime gets the same count.
/// </summary>
public static class BenchmarkJobs
{
    /// <summary>The environment variable that fixes PruneGen's <c>WorkerPool</c> size.</summary>
    public const string ThreadsVariable = "PRUNEGEN_THREADS";

    /// <summary>The short job every benchmark uses.</summary>
    public static Job Short { get; } = Job.Default
        .WithLaunchCount(1)
        .WithWarmupCount(3)
        .WithIterationCount(9)
        .WithIterationTime(TimeInterval.FromMilliseconds(150));

    /// <summary>One thread: <c>PRUNEGEN_THREADS=1</c>, ONNX Runtime <c>IntraOpNumThreads = 1</c>.</summary>
    public static Job OneThread { get; } = Short.WithEnvironmentVariable(ThreadsVariable, "1").WithId("1thread");

    /// <summary>PruneGen's default pool (one thread per processor), ONNX Runtime with as many intra-op threads.</summary>
    public static Job DefaultThreads { get; } = Short.WithId("allcores");

    /// <summary>Threads a job runs with: 1 when it sets <c>PRUNEGEN_THREADS=1</c>, else the processor count.</summary>
    public static int ThreadsOf(Job job)
    {
        var variable = job.Environment.EnvironmentVariables?.FirstOrDefault(v => v.Key == ThreadsVariable);
        return variable is not null && int.TryParse(variable.Value, out var n) ? n : Environment.ProcessorCount;
    }
}

/// <summary>Inference and training: the 1-thread job and the all-cores job, with median, min–max and allocation columns.</summary>
public sealed class ThreadJobsConfig : ManualConfig
{
    /// <summary>Creates the configuration.</summary>
    public ThreadJobsConfig()
    {
        AddJob(BenchmarkJobs.OneThread, BenchmarkJobs.DefaultThreads);
        AddColumn(StatisticColumn.Median, StatisticColumn.Min, StatisticColumn.Max);
        AddColumn(new ThreadsColumn(), new GflopsColumn());
        AddDiagnoser(MemoryDiagnoser.Default);
        HideColumns(Column.Error, Column.StdDev, Column.RatioSD, Column.Gen0, Column.Gen1, Column.Gen2);
        SummaryStyle = SummaryStyle.Default.WithRatioStyle(RatioStyle.Value);
    }
}

/// <summary>GEMM: one thread only (<see cref="PruneGen.Kernels.Gemm"/> itself is single-threaded).</summary>
public sealed class GemmConfig : ManualConfig
{
    /// <summary>Creates the configuration.</summary>
    public GemmConfig()
    {
        AddJob(BenchmarkJobs.OneThread);
        AddColumn(StatisticColumn.Median, StatisticColumn.Min, StatisticColumn.Max);
        AddColumn(new GflopsColumn());
        HideColumns(Column.Error, Column.StdDev);
    }
}

/// <summary>The thread count of the job (PruneGen workers = ONNX Runtime intra-op threads).</summary>
public sealed class ThreadsColumn : IColumn
{
    /// <inheritdoc />
    public string Id => nameof(ThreadsColumn);

    /// <inheritdoc />
    public string ColumnName => "Threads";

    /// <inheritdoc />
    public bool AlwaysShow => true;

    /// <inheritdoc />
    public ColumnCategory Category => ColumnCategory.Job;

    /// <inheritdoc />
    public int PriorityInCategory => 0;

    /// <inheritdoc />
    public bool IsNumeric => true;

    /// <inheritdoc />
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc />
    public string Legend => "PruneGen WorkerPool threads = ONNX Runtime IntraOpNumThreads";

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        BenchmarkJobs.ThreadsOf(benchmarkCase.Job).ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    /// <inheritdoc />
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc />
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}

/// <summary>
/// Achieved GFLOP/s from the median time: 2·MACs·batch for inference (a <c>Network</c> and a
/// <c>Batch</c> parameter), 2·M·N·K for GEMM (a <c>Shape</c> parameter); empty for training.
/// </summary>
public sealed class GflopsColumn : IColumn
{
    /// <inheritdoc />
    public string Id => nameof(GflopsColumn);

    /// <inheritdoc />
    public string ColumnName => "GFLOP/s";

    /// <inheritdoc />
    public bool AlwaysShow => true;

    /// <inheritdoc />
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc />
    public int PriorityInCategory => 0;

    /// <inheritdoc />
    public bool IsNumeric => true;

    /// <inheritdoc />
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc />
    public string Legend => "fp32 GFLOP/s at the median time (2 FLOP per multiply-accumulate)";

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var median = summary[benchmarkCase]?.ResultStatistics?.Median;
        var flops = Flops(benchmarkCase);
        return median is > 0 && flops > 0 ? (flops / median.Value).ToString("F1", CultureInfo.InvariantCulture) : "-";
    }

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    /// <inheritdoc />
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc />
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    private static double Flops(BenchmarkCase benchmarkCase)
    {
        var parameters = benchmarkCase.Parameters;
        if (benchmarkCase.Descriptor.Type == typeof(InferenceBenchmarks) && parameters["Network"] is string network && parameters["Batch"] is int batch)
        {
            return 2.0 * ReferenceNetworks.Macs(network) * batch;
        }

        if (benchmarkCase.Descriptor.Type == typeof(PruningSpeedupBenchmarks) && parameters["Network"] is string pruned && parameters["Batch"] is int samples)
        {
            var measured = benchmarkCase.Descriptor.WorkloadMethod.Name == nameof(PruningSpeedupBenchmarks.Base) ? ReferenceNetworks.BaseOf(pruned) : pruned;
            return 2.0 * ReferenceNetworks.Macs(measured) * samples;
        }

        if (parameters.Items.Any(p => p.Name == "Shape") && parameters["Shape"] is string shape)
        {
            foreach (var s in GemmWorkload.Shapes)
            {
                if (s.Name == shape)
                {
                    return 2.0 * s.M * s.N * s.K;
                }
            }
        }

        return 0;
    }
}
