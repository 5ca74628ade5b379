using System;
using BenchmarkDotNet.Running;
using PruneGen.Benchmarks.Quick;

namespace PruneGen.Benchmarks;

/// <summary>
/// <c>quick</c> prints a comparison table without BenchmarkDotNet, <c>layers</c> a per-layer profile
/// of VggNet (PruneGen kernels and ONNX Runtime's profiler), <c>convs</c> single convolutions forward and
/// backward, <c>staircase</c> latency against one group's
/// width (compiled at run time); anything else goes to
/// BenchmarkDotNet's switcher (e.g. <c>--filter '*Inference*'</c>, <c>--list flat</c>).
/// </summary>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "quick")
        {
            return QuickRunner.Run(args);
        }

        if (args.Length > 0 && args[0] == "staircase")
        {
            return StaircaseRunner.Run(args);
        }

        if (args.Length > 0 && args[0] == "layers")
        {
            return LayerProfile.Run(args);
        }

        if (args.Length > 0 && args[0] == "convs")
        {
            return ConvProfile.Run(args);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
