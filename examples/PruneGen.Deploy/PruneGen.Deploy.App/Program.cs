using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Runtime;
using PruneGen;
using PruneGen.Deploy;
using PruneGen.Examples.Networks;
using PruneGen.Kernels;

// Loads the network with the weights embedded in its assembly, classifies the Fashion-MNIST test set, and
// measures batch-1 and batch-64 latency. Exit code 2 when the accuracy is below --min-accuracy.
//
//   PruneGen.Deploy.App [--network pruned|base] [--data DIR] [--min-accuracy PERCENT] [--no-latency]
var network = "pruned";
var data = Environment.GetEnvironmentVariable("PRUNEGEN_FASHION_MNIST") is { Length: > 0 } env ? env : "/usr/share/datasets/fashion-mnist";
var minAccuracy = 0.0;
var latency = true;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--network" when i + 1 < args.Length: network = args[++i]; break;
        case "--data" when i + 1 < args.Length: data = args[++i]; break;
        case "--min-accuracy" when i + 1 < args.Length: minAccuracy = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--no-latency": latency = false; break;
        default:
            Console.Error.WriteLine($"Unknown argument '{args[i]}'. Usage: PruneGen.Deploy.App [--network pruned|base] [--data DIR] [--min-accuracy PERCENT] [--no-latency]");
            return 1;
    }
}

var load = Stopwatch.StartNew();
INetwork net;
try
{
    net = network switch
    {
        "pruned" => VggNetL1Half.LoadEmbedded(),
        "base" => VggNet.LoadEmbedded(),
        _ => throw new ArgumentException($"--network must be 'pruned' or 'base', not '{network}'."),
    };
}
catch (Exception e) when (e is FileNotFoundException or ArgumentException)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}

var loadMs = load.Elapsed.TotalMilliseconds;

// A NativeAOT binary compiles nothing at run time (PublishAot also makes IsDynamicCodeSupported false under the JIT).
var mode = JitInfo.GetCompiledMethodCount() > 0 ? "JIT" : "NativeAOT";
var name = network == "pruned" ? nameof(VggNetL1Half) : nameof(VggNet);
Console.WriteLine(FormattableString.Invariant(
    $"{name}: {net.Graph.TotalParameters:N0} parameters, {net.Graph.TotalMacs:N0} MACs/sample; weights loaded from the assembly in {loadMs:F1} ms"));
Console.WriteLine($"runtime: {mode}, SIMD {Simd.Level}, {WorkerPool.Workers} kernel threads");

var (images, labels) = FashionMnistTest.Read(data);
var inputSize = net.InputSize;
var classes = net.OutputSize;
const int Batch = 64;
var output = new float[Batch * classes];
var correct = 0;
var clock = Stopwatch.StartNew();
for (var start = 0; start < labels.Length; start += Batch)
{
    var n = Math.Min(Batch, labels.Length - start);
    net.Forward(images.AsSpan(start * inputSize, n * inputSize), output, n);
    for (var s = 0; s < n; s++)
    {
        var row = output.AsSpan(s * classes, classes);
        var best = 0;
        for (var c = 1; c < classes; c++)
        {
            if (row[c] > row[best])
            {
                best = c;
            }
        }

        correct += best == labels[start + s] ? 1 : 0;
    }
}

var accuracy = 100.0 * correct / labels.Length;
Console.WriteLine(FormattableString.Invariant(
    $"accuracy: {accuracy:F2} % ({correct}/{labels.Length} Fashion-MNIST test images, {clock.Elapsed.TotalSeconds:F2} s)"));

if (latency)
{
    foreach (var batch in new[] { 1, 64 })
    {
        var ms = Latency.Median(net, batch);
        Console.WriteLine(FormattableString.Invariant($"latency batch {batch}: {ms:F3} ms median ({batch * 1000 / ms:F0} images/s)"));
    }
}

if (accuracy < minAccuracy)
{
    Console.Error.WriteLine(FormattableString.Invariant($"accuracy {accuracy:F2} % is below --min-accuracy {minAccuracy:F2} %"));
    return 2;
}

return 0;

/// <summary>The Fashion-MNIST test set from its IDX files (gzip-compressed, as Debian's package ships them).</summary>
internal static class FashionMnistTest
{
    // The normalization the network was trained with: (pixel / 255 − mean) / std over the training images.
    private const float Mean = 0.2860406f;
    private const float Std = 0.3530242f;

    public static (float[] Images, byte[] Labels) Read(string directory)
    {
        var imageBytes = ReadIdx(Path.Combine(directory, "t10k-images-idx3-ubyte.gz"), dimensions: 3, out var imageCount);
        var labels = ReadIdx(Path.Combine(directory, "t10k-labels-idx1-ubyte.gz"), dimensions: 1, out var labelCount);
        if (imageCount != labelCount)
        {
            throw new InvalidDataException($"{directory}: {imageCount} images but {labelCount} labels.");
        }

        var scale = 1f / (255f * Std);
        var offset = -Mean / Std;
        var images = new float[imageBytes.Length];
        for (var i = 0; i < images.Length; i++)
        {
            images[i] = (imageBytes[i] * scale) + offset;
        }

        return (images, labels);
    }

    /// <summary>An IDX file of unsigned bytes: magic 0x0000_08_dd, dd big-endian int32 dimensions, then the data.</summary>
    private static byte[] ReadIdx(string path, int dimensions, out int count)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path} not found: pass --data DIR (the folder with Fashion-MNIST's t10k-*.gz files) or set PRUNEGEN_FASHION_MNIST.", path);
        }

        using var stream = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        var header = new byte[4 * (1 + dimensions)];
        stream.ReadExactly(header);
        int Int(int index) => (header[4 * index] << 24) | (header[(4 * index) + 1] << 16) | (header[(4 * index) + 2] << 8) | header[(4 * index) + 3];
        if (Int(0) != (0x0800 | dimensions))
        {
            throw new InvalidDataException($"{path}: not an IDX file of {dimensions}-dimensional unsigned bytes (magic 0x{Int(0):X8}).");
        }

        count = Int(1);
        long length = count;
        for (var d = 2; d <= dimensions; d++)
        {
            length *= Int(d);
        }

        var data = new byte[length];
        stream.ReadExactly(data);
        return data;
    }
}

/// <summary>Median wall time of <c>Forward</c> at a batch size, after a warm-up.</summary>
internal static class Latency
{
    public static double Median(INetwork net, int batch)
    {
        var input = new float[batch * net.InputSize];
        var output = new float[batch * net.OutputSize];
        var samples = new double[21];
        var runs = batch == 1 ? 50 : 4;
        for (var i = -3; i < samples.Length; i++)
        {
            var clock = Stopwatch.StartNew();
            for (var r = 0; r < runs; r++)
            {
                net.Forward(input, output, batch);
            }

            if (i >= 0)
            {
                samples[i] = clock.Elapsed.TotalMilliseconds / runs;
            }
        }

        Array.Sort(samples);
        return samples[samples.Length / 2];
    }
}
