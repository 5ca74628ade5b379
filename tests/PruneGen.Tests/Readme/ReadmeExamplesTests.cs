using PruneGen.Data;
using PruneGen.Pruning;
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

    [Fact]
    public void PruningExampleRuns()
    {
        var dir = Directory.CreateTempSubdirectory("prunegen-readme").FullName;
        try
        {
            var data = FashionMnist.LoadEmbeddedSubset();
            var train = data.Train.Slice(0, 640);
            var test = data.Test.Slice(0, 256);
            var net = new SmallCnn();
            Initializer.HeUniform(net, seed: 1);
            new Trainer(net, new Sgd(net.Parameters), LearningRateSchedule.Constant(0.05f), new TrainingOptions { Epochs = 1, BatchSize = 64 }).Fit(train);

            // The README's pruning example.
            var plan = Pruner.Plan(net, new PruningOptions
            {
                Criterion = Importance.Taylor,
                Calibration = data.Train.Slice(0, 512),
                Allocation = new AllocationOptions { Target = PruningTarget.MacsReduction(2) },
            });
            var mask = PruningMask.Create(net, plan);
            mask.Apply(net.Parameters);
            var sgd = new Sgd(net.Parameters, momentum: 0.9f, nesterov: true);
            var fineTune = new Trainer(net, sgd, LearningRateSchedule.Cosine(0.01f), new TrainingOptions { Epochs = 1, BatchSize = 64 })
            {
                AfterUpdate = () => mask.Apply(net.Parameters),
            };
            fineTune.Fit(train, test);
            PlanFile.Write(Path.Combine(dir, "small.plan.json"), plan);
            PlanSlicer.Slice(net, plan).Save(Path.Combine(dir, "small.pruned.safetensors"));

            Assert.True(plan.Summary!.Macs <= SmallCnn.TotalMacs / 2);
            Assert.Equal(plan, PlanFile.Load(Path.Combine(dir, "small.plan.json"), net));
            var removed = Enumerable.Range(0, 32).Except(plan.Group("conv1")!.Kept).ToArray();
            Assert.NotEmpty(removed);
            Assert.All(removed, c => Assert.True(net.Conv1Weight.Data.AsSpan(c * 9, 9).IndexOfAnyExcept(0f) < 0));
            Assert.True(File.Exists(Path.Combine(dir, "small.pruned.safetensors")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
