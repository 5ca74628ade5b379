using PruneGen.Data;
using PruneGen.Training;

namespace PruneGen.Tests.Readme;

// The README's code, kept compiling and running here (with a small data slice so it stays fast).

[Network(1, 28, 28)]
[Conv2D("conv1", 32, 3, Padding = 1), BatchNorm("bn1"), ReLU]
[Conv2D("conv2", 32, 3, Padding = 1), BatchNorm("bn2"), ReLU, MaxPool2D(2)]
[Flatten]
[Dense("fc1", 128), ReLU, Dropout(0.3)]
[Dense("logits", 10)]
public partial class SmallCnn;

internal static class ReadmeShapeChecks
{
    // The README's compile-time shape test.
    public const int Check = 1 / (SmallCnn.Layers.Fc1.Size == 128 ? 1 : 0);
}

public class ReadmeExamplesTests
{
    [Fact]
    public void TrainingExampleRuns()
    {
        var dir = Directory.CreateTempSubdirectory("prunegen-readme").FullName;
        try
        {
            var data = FashionMnist.LoadEmbeddedSubset();
            var net = new SmallCnn();
            Initializer.HeUniform(net, seed: 1);
            var sgd = new Sgd(net.Parameters, momentum: 0.9f, nesterov: true) { WeightDecay = 5e-4f };
            var schedule = LearningRateSchedule.Warmup(4, LearningRateSchedule.Cosine(0.05f));
            var results = new List<EpochResult>();
            var trainer = new Trainer(net, sgd, schedule, new TrainingOptions { Epochs = 1, BatchSize = 64, CheckpointPath = Path.Combine(dir, "small.safetensors") })
            {
                EpochCompleted = results.Add,
            };
            trainer.Fit(data.Train.Slice(0, 640), data.Test.Slice(0, 256));
            PruneGen.Onnx.OnnxExporter.Save(net, Path.Combine(dir, "small.onnx"));

            Assert.Single(results);
            Assert.True(File.Exists(Path.Combine(dir, "small.safetensors")));
            Assert.True(File.Exists(Path.Combine(dir, "small.onnx")));
            Assert.Equal(1, ReadmeShapeChecks.Check);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
