using System;
using PruneGen;

var net = new TinyNet();
Initializer.HeUniform(net, seed: 7);
var input = new float[2 * TinyNet.InputSize];
for (var i = 0; i < input.Length; i++)
{
    input[i] = MathF.Sin(i);
}

// The PruneGen package brings PruneGen.Runtime (kernels, attributes, generator) as a dependency; with the
// training runtime referenced, the generator emits the training passes too.
ITrainableNetwork trainable = net;
_ = trainable.TrainForward(input, batch: 2);

var output = new float[2 * TinyNet.OutputSize];
net.Forward(input, output, batch: 2);
var sum = 0f;
foreach (var v in output)
{
    sum += v;
}

if (MathF.Abs(sum - 2f) > 1e-4f)
{
    Console.Error.WriteLine($"softmax outputs should sum to 2 over two samples, got {sum}");
    return 1;
}

Console.WriteLine($"package consumer OK: {TinyNet.LayerCount} layers, {TinyNet.TotalParameters} parameters, {TinyNet.TotalMacs} MACs");
return 0;

/// <summary>
/// Shape unit tests that run at compile time: the generator's constants are C# constants, so a
/// wrong shape is a division by zero in a constant expression (error CS0020) and the build fails.
/// </summary>
internal static class ShapeChecks
{
    public const int PoolIs8x4x4 = 1 / (TinyNet.Layers.Pool.Channels == 8 && TinyNet.Layers.Pool.Height == 4 && TinyNet.Layers.Pool.Width == 4 ? 1 : 0);
    public const int ThreeClasses = 1 / (TinyNet.OutputSize == 3 ? 1 : 0);
}

/// <summary>A small network declared in the consumer's own code.</summary>
[Network(1, 8, 8)]
[Conv2D("conv", 8, 3, Padding = 1), BatchNorm("bn"), ReLU, MaxPool2D(2, Name = "pool")]
[Flatten, Dense("fc", 3), Softmax]
internal sealed partial class TinyNet;
