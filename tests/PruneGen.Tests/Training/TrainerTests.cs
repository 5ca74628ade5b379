using System.Diagnostics;
using PruneGen.Checkpoints;
using PruneGen.Data;
using PruneGen.Examples.Networks;
using PruneGen.Tests.Data;
using PruneGen.Training;
using Xunit.Abstractions;
using static PruneGen.Tests.Training.TrainingTestSupport;

namespace PruneGen.Tests.Training;

/// <summary>
/// The trainer end to end through the public API, on real Fashion-MNIST images: it learns, it is
/// deterministic, it stops cleanly on divergence, it resumes exactly, it rejects what does not fit.
/// </summary>
[Trait("Category", "Training")]
public sealed class TrainerTests(ITestOutputHelper output) : IDisposable
{
    private readonly DataTestSupport.TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// 4 000 training images, 2 epochs, batch 64, SGD with Nesterov momentum, 10 warm-up steps then cosine.
    /// Measured with seed 1 on the full 10 000-image test set: MLP 82.1 %, LeNet-5 80.9 % (seeds 1–4: MLP 80.9–82.1 %,
    /// LeNet-5 79.4–81.4 %); the bars leave about three points for other SIMD widths and the embedded test subset.
    /// </summary>
    [Theory]
    [InlineData(nameof(Mlp), 0.05f, 0.78f)]
    [InlineData(nameof(LeNet5), 0.03f, 0.77f)]
    public void TrainingOnRealImagesReachesTheStatedTestAccuracy(string network, float learningRate, float bar)
    {
        ITrainableNetwork net = network == nameof(Mlp) ? new Mlp() : new LeNet5();
        Initializer.HeUniform(net, 1);
        var train = Train(4000);
        var test = FashionMnistSet.Test;
        var clock = Stopwatch.StartNew();
        var epochs = new List<EpochResult>();
        var trainer = new Trainer(
            net,
            new Sgd(net.Parameters, momentum: 0.9f, nesterov: true),
            LearningRateSchedule.Warmup(10, LearningRateSchedule.Cosine(learningRate)),
            new TrainingOptions { Epochs = 2, BatchSize = 64, Seed = 1, Augmentation = Augmentation.None })
        {
            EpochCompleted = epochs.Add,
        };

        var results = trainer.Fit(train, test);

        output.WriteLine($"{network} on {FashionMnistSet.Source} ({train.Count} train, {test.Count} test), {clock.Elapsed.TotalSeconds:F2} s:");
        foreach (var r in results)
        {
            output.WriteLine("  " + r);
        }

        Assert.Equal(results, epochs);
        Assert.Equal([1, 2], results.Select(r => r.Epoch));
        Assert.Equal(2, trainer.CompletedEpochs);
        Assert.True(results[1].TrainLoss < results[0].TrainLoss, "the training loss fell");
        Assert.True(results[1].TestAccuracy >= bar, $"{network} reached {results[1].TestAccuracy:P2} test accuracy; the bar is {bar:P0}.");
        Assert.Equal(0f, results[1].LearningRate, 1e-6f); // the cosine ends at 0

        // Evaluate gives what the epoch reported.
        var evaluation = Trainer.Evaluate(net, test);
        Assert.Equal(results[1].TestAccuracy, evaluation.Accuracy);
        Assert.Equal(results[1].TestLoss, evaluation.Loss);
        Assert.Equal(test.Count, evaluation.Count);
    }

    /// <summary>A run of <see cref="TrainerTestNet"/> with everything stateful switched on.</summary>
    /// <param name="optimizer">"sgd" (Nesterov, weight decay) or "adamw".</param>
    /// <param name="epochs">Epochs of the run.</param>
    /// <param name="cosine">
    /// Warm-up then cosine over the run (the rate depends on the step and on the run's length), else warm-up then
    /// step decay (depends on the step only, so a 1-epoch run continued to 2 epochs follows the same rates).
    /// </param>
    private static (TrainerTestNet Net, Trainer Trainer) CreateRun(string optimizer, int epochs, bool cosine = false, ulong seed = 7, string? checkpoint = null, int initSeed = 3, CancellationTokenSource? cancelAfterEpoch1 = null)
    {
        var net = new TrainerTestNet();
        Initializer.HeUniform(net, initSeed);
        Optimizer o = optimizer == "sgd"
            ? new Sgd(net.Parameters, momentum: 0.9f, nesterov: true) { WeightDecay = 5e-4f }
            : new AdamW(net.Parameters) { WeightDecay = 1e-2f };
        var rate = optimizer == "sgd" ? 0.05f : 2e-3f;
        var schedule = LearningRateSchedule.Warmup(5, cosine ? LearningRateSchedule.Cosine(rate, rate / 10) : LearningRateSchedule.StepDecay(rate, 7, 0.7f));
        var trainer = new Trainer(net, o, schedule, new TrainingOptions
        {
            Epochs = epochs,
            BatchSize = 32,
            Seed = seed,
            Augmentation = Augmentation.Standard,
            LabelSmoothing = 0.1f,
            CheckpointPath = checkpoint,
        })
        {
            EpochCompleted = cancelAfterEpoch1 is null ? null : r => cancelAfterEpoch1.Cancel(),
        };
        return (net, trainer);
    }

    [Fact]
    public void TheSameSeedGivesBitIdenticalWeightsEvenWhenRunsCompeteForTheWorkerThreads()
    {
        // Threaded convolution backward (per-thread partial gradients summed in a fixed order), BatchNorm
        // statistics, dropout masks, augmentation. When two runs overlap, one of them finds the worker pool
        // busy and runs its kernel parts one after another instead: the same parts, the same sums.
        var train = Train(640);
        var (alone, aloneTrainer) = CreateRun("sgd", epochs: 1);
        aloneTrainer.Fit(train);

        var (a, aTrainer) = CreateRun("sgd", epochs: 1);
        var (b, bTrainer) = CreateRun("sgd", epochs: 1);
        Parallel.Invoke(() => aTrainer.Fit(train), () => bTrainer.Fit(train));

        output.WriteLine($"worker threads {PruneGen.Kernels.WorkerPool.Workers}; fingerprint after one epoch {Fingerprint(alone)}");
        AssertBitIdentical(alone, a, "concurrent run A vs the run alone");
        AssertBitIdentical(alone, b, "concurrent run B vs the run alone");

        // And the seed matters.
        var (other, otherTrainer) = CreateRun("sgd", epochs: 1, seed: 8);
        otherTrainer.Fit(train);
        Assert.NotEqual(Fingerprint(alone), Fingerprint(other));
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adamw")]
    public void ResumingFromACheckpointContinuesExactlyAsTheUninterruptedRun(string optimizer)
    {
        var train = Train(640);
        var straightFile = _dir.File("straight.safetensors");
        var resumedFile = _dir.File("resumed.safetensors");

        var (straight, straightTrainer) = CreateRun(optimizer, epochs: 2, checkpoint: straightFile);
        var straightResults = straightTrainer.Fit(train);

        // One epoch, then a new process in all but name: new network (other initial weights), optimizer and
        // trainer, resumed and asked for 2 epochs.
        var (_, firstHalf) = CreateRun(optimizer, epochs: 1, checkpoint: resumedFile);
        firstHalf.Fit(train);
        var (resumed, resumedTrainer) = CreateRun(optimizer, epochs: 2, checkpoint: resumedFile, initSeed: 99);
        resumedTrainer.Resume(resumedFile);
        Assert.Equal(1, resumedTrainer.CompletedEpochs);
        var resumedResults = resumedTrainer.Fit(train);

        var epoch2 = Assert.Single(resumedResults);
        Assert.Equal(2, epoch2.Epoch);
        Assert.Equal(straightResults[1].TrainLoss, epoch2.TrainLoss);
        Assert.Equal(straightResults[1].TrainAccuracy, epoch2.TrainAccuracy);
        Assert.Equal(straightResults[1].LearningRate, epoch2.LearningRate);
        AssertBitIdentical(straight, resumed, $"{optimizer}: 2 epochs vs 1 + resume + 1");

        // The final checkpoints (weights, running statistics, optimizer state, counters) are the same bytes.
        Assert.Equal(File.ReadAllBytes(straightFile), File.ReadAllBytes(resumedFile));
        var contents = Checkpoint.Load(new TrainerTestNet(), straightFile);
        Assert.Equal("2", contents.Metadata[Trainer.EpochKey]);
        Assert.Equal((2 * (640 / 32)).ToString(System.Globalization.CultureInfo.InvariantCulture), contents.Metadata[Trainer.StepKey]);
        var stateNames = optimizer == "sgd" ? new[] { "momentum" } : ["exp_avg", "exp_avg_sq"];
        Assert.Equal(
            straight.Parameters.Where(p => p.Spec.Trainable).SelectMany(p => stateNames.Select(s => $"{Trainer.OptimizerPrefix}{p.Name}.{s}")),
            contents.ExtraTensors.Select(t => t.Name));

        // A finished run has nothing left to do.
        Assert.Empty(resumedTrainer.Fit(train));
    }

    [Fact]
    public void AnInterruptedRunWithACosineScheduleResumesExactly()
    {
        // The cosine depends on the run's length, so the interrupted run must be the same 2-epoch run: it is
        // cancelled (as if the process died) right after the checkpoint of epoch 1.
        var train = Train(640);
        var (straight, straightTrainer) = CreateRun("sgd", epochs: 2, cosine: true);
        straightTrainer.Fit(train);

        var path = _dir.File("interrupted.safetensors");
        using var cancel = new CancellationTokenSource();
        var (_, interrupted) = CreateRun("sgd", epochs: 2, cosine: true, checkpoint: path, cancelAfterEpoch1: cancel);
        Assert.ThrowsAny<OperationCanceledException>(() => interrupted.Fit(train, cancellationToken: cancel.Token));
        Assert.Equal(1, interrupted.CompletedEpochs);

        var (resumed, resumedTrainer) = CreateRun("sgd", epochs: 2, cosine: true, initSeed: 99);
        resumedTrainer.Resume(path);
        resumedTrainer.Fit(train);
        AssertBitIdentical(straight, resumed, "cosine: 2 epochs vs interrupted after 1 + resume");
    }

    [Fact]
    public void AHugeLearningRateStopsTrainingWithAClearMessageAndLeavesTheLastCheckpointIntact()
    {
        // A sane rate for epoch 1, then ×10⁶ from the first step of epoch 2.
        var train = Train(640);
        var path = _dir.File("mlp.safetensors");
        var net = new Mlp();
        Initializer.HeUniform(net, 1);
        var batches = train.Count / 64;
        var done = new List<EpochResult>();
        var writtenAfterEpoch1 = Array.Empty<byte>();
        var trainer = new Trainer(net, new Sgd(net.Parameters), LearningRateSchedule.StepDecay(0.05f, batches, 1e6f), new TrainingOptions
        {
            Epochs = 3,
            BatchSize = 64,
            Augmentation = Augmentation.None,
            CheckpointPath = path,
        })
        {
            EpochCompleted = r =>
            {
                done.Add(r);
                writtenAfterEpoch1 = File.ReadAllBytes(path);
            },
        };

        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(train));

        output.WriteLine(e.Message);
        Assert.Single(done);
        Assert.Matches(@"^Training diverged: the loss became (NaN|\+∞ \(infinite\)) at epoch 2/3, batch \d+/10 \(learning rate 5E\+04\)", e.Message);
        Assert.Contains($"The last good checkpoint, '{path}' (epoch 1), is intact: it was not overwritten", e.Message);
        Assert.Contains("Lower the learning rate", e.Message);
        Assert.Equal(writtenAfterEpoch1, File.ReadAllBytes(path));
        Assert.Equal([Path.GetFileName(path)], Directory.GetFiles(_dir.Path).Select(Path.GetFileName)); // no temporary file left

        // The checkpoint is usable: it resumes at epoch 1.
        var again = new Mlp();
        var resumed = new Trainer(again, new Sgd(again.Parameters), LearningRateSchedule.Constant(0.01f), new TrainingOptions { Epochs = 2 });
        resumed.Resume(path);
        Assert.Equal(1, resumed.CompletedEpochs);
        Assert.True(Trainer.Evaluate(again, train).Accuracy > 0.5f);
    }

    [Fact]
    public void NaNInTheDataStopsTrainingInTheFirstEpoch()
    {
        var train = Train(256);
        train.Images[(100 * train.SampleSize) + 300] = float.NaN;
        var net = new Mlp();
        Initializer.HeUniform(net, 1);
        var trainer = new Trainer(net, new Sgd(net.Parameters), LearningRateSchedule.Constant(0.01f), new TrainingOptions
        {
            Epochs = 2,
            BatchSize = 32,
            CheckpointPath = _dir.File("never.safetensors"),
        });

        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(train));

        output.WriteLine(e.Message);
        Assert.Matches(@"^Training diverged: the loss became NaN at epoch 1/2, batch [1-8]/8 \(learning rate 0\.01\)", e.Message);
        Assert.Contains("No checkpoint had been written yet", e.Message);
        Assert.Contains("check the input data for NaN/Inf", e.Message);
        Assert.False(File.Exists(_dir.File("never.safetensors")));
        Assert.Equal(0, trainer.CompletedEpochs);
    }

    [Fact]
    public void InputsThatDoNotFitTheNetworkAreRejectedWithClearMessages()
    {
        var net = new LeNet5();
        var sgd = new Sgd(net.Parameters);
        var schedule = LearningRateSchedule.Constant(0.01f);
        var trainer = new Trainer(net, sgd, schedule);
        var train = Train(64);

        // Wrong image size, for the training and for the test set.
        var small = new Dataset("14-pixel images", new float[4 * 196], new byte[4], 1, 14, 14, 10, Normalization.UnitRange);
        var e = Assert.Throws<ArgumentException>(() => trainer.Fit(small));
        Assert.Equal("data", e.ParamName);
        Assert.Contains("Data set '14-pixel images' has samples of 1×14×14 = 196 floats, but network 'LeNet5' takes 1×28×28 = 784 floats per sample.", e.Message);
        e = Assert.Throws<ArgumentException>(() => trainer.Fit(train, small));
        Assert.Contains("'14-pixel images' has samples of 1×14×14 = 196 floats", e.Message);
        e = Assert.Throws<ArgumentException>(() => Trainer.Evaluate(net, small));
        Assert.Contains("'14-pixel images' has samples of 1×14×14 = 196 floats", e.Message);

        // More classes than outputs.
        var many = new Dataset("twelve classes", new float[2 * 784], [0, 11], 1, 28, 28, 12, Normalization.UnitRange);
        e = Assert.Throws<ArgumentException>(() => trainer.Fit(many));
        Assert.Contains("Data set 'twelve classes' has 12 classes, but network 'LeNet5' outputs 10 values.", e.Message);

        // Nothing to train on.
        e = Assert.Throws<ArgumentException>(() => trainer.Fit(train.Slice(0, 0)));
        Assert.Contains("is empty", e.Message);

        // An optimizer made for another network (even one of the same type).
        var other = new LeNet5();
        e = Assert.Throws<ArgumentException>(() => new Trainer(net, new Sgd(other.Parameters), schedule));
        Assert.Equal("optimizer", e.ParamName);
        Assert.Contains("The Sgd optimizer was created for another network's parameters, not for this 'LeNet5' instance's", e.Message);

        // Bad options.
        var range = Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(net, sgd, schedule, new TrainingOptions { BatchSize = 0 }));
        Assert.Contains("Epochs and batch sizes must be at least 1", range.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(net, sgd, schedule, new TrainingOptions { Epochs = 0 }));

        // Nothing was trained along the way.
        Assert.Equal(0, sgd.Step);
    }

    [Fact]
    public void ResumeRejectsCheckpointsThatDoNotFit()
    {
        var net = new Mlp();
        Initializer.HeUniform(net, 1);

        // Weights alone (Checkpoint.Save) are not a training checkpoint.
        var weightsOnly = _dir.File("weights.safetensors");
        Checkpoint.Save(net, weightsOnly);
        var e = Assert.Throws<InvalidDataException>(() => new Trainer(net, new Sgd(net.Parameters), LearningRateSchedule.Constant(0.01f)).Resume(weightsOnly));
        Assert.Contains($"'{weightsOnly}' is not a training checkpoint: its metadata has no valid 'training.epoch' (found nothing)", e.Message);
        Assert.Contains("use Checkpoint.Load to load weights alone", e.Message);

        // A checkpoint of an SGD run resumed with AdamW: the momentum has no place there.
        var sgd = new Sgd(net.Parameters);
        sgd.Update(0.01f); // creates the momentum state
        var sgdRun = _dir.File("sgd.safetensors");
        new Trainer(net, sgd, LearningRateSchedule.Constant(0.01f)).SaveCheckpoint(sgdRun);
        var adamNet = new Mlp();
        var a = Assert.Throws<ArgumentException>(() => new Trainer(adamNet, new AdamW(adamNet.Parameters), LearningRateSchedule.Constant(0.01f)).Resume(sgdRun));
        Assert.Contains("Optimizer state 'fc1.weight.momentum': AdamW keeps exp_avg, exp_avg_sq, not 'momentum'", a.Message);

        // Another network's checkpoint.
        var lenet = new LeNet5();
        var mismatch = Assert.Throws<CheckpointMismatchException>(() => new Trainer(lenet, new Sgd(lenet.Parameters), LearningRateSchedule.Constant(0.01f)).Resume(sgdRun));
        Assert.Contains("Network: 'LeNet5'; checkpoint: saved from 'Mlp'", mismatch.Message);
    }
}
