using System;
using System.IO;
using System.Linq;
using PruneGen;

// Inference-only: the class implements INetwork and nothing of the training library.
INetwork net = new TinyNet();
var interfaces = typeof(TinyNet).GetInterfaces().Select(i => i.FullName).ToArray();
if (interfaces.Any(i => i == "PruneGen.ITrainableNetwork") || typeof(TinyNet).GetMethod("TrainForward") is not null)
{
    Console.Error.WriteLine("TinyNet has training members, but only PruneGen.Runtime is referenced");
    return 1;
}

var output = new float[TinyNet.OutputSize];
net.Forward(new float[TinyNet.InputSize], output, batch: 1);

// The weights are not embedded in this app, so LoadEmbedded names the missing resource.
try
{
    TinyNet.LoadEmbedded();
    Console.Error.WriteLine("LoadEmbedded should have failed: no resource is embedded");
    return 1;
}
catch (FileNotFoundException e) when (e.FileName == TinyNet.EmbeddedWeightsResource)
{
}

Console.WriteLine($"inference package consumer OK: {TinyNet.LayerCount} layers, inference-only ({string.Join(", ", interfaces)})");
return 0;

/// <summary>A small network declared in the consumer's own code.</summary>
[Network(1, 8, 8)]
[Conv2D("conv", 4, 3, Padding = 1), ReLU, MaxPool2D(2)]
[Flatten, Dense("fc", 3)]
[EmbeddedWeights("tiny.safetensors")]
internal sealed partial class TinyNet;
