using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using PruneGen.Checkpoints;
using PruneGen.Data;

namespace PruneGen.Training;

/// <summary>How <see cref="Trainer.Fit"/> runs.</summary>
public sealed record TrainingOptions
{
    /// <summary>Epochs to train (in total, counting epochs restored from a checkpoint).</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Samples per optimizer step.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Samples per forward pass when evaluating.</summary>
    public int EvaluationBatchSize { get; init; } = 256;

    /// <summary>Label smoothing ε for the cross-entropy loss.</summary>
    public float LabelSmoothing { get; init; }

    /// <summary>Seed of the data order, augmentation and dropout; a fixed seed on one thread gives identical runs.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Training-time augmentation (default: random crop with 2 pixels of padding and horizontal flip).</summary>
    public Augmentation Augmentation { get; init; } = Augmentation.Standard;

    /// <summary>Where to save a checkpoint (weights + optimizer state) after every epoch, atomically; null for none.</summary>
    public string? CheckpointPath { get; init; }
}

/// <summary>Metrics of one finished epoch.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="Epochs">Epochs in the run.</param>
/// <param name="TrainLoss">Mean training loss over the epoch (with augmentation and dropout).</param>
/// <param name="TrainAccuracy">Training accuracy over the epoch, as seen during training.</param>
/// <param name="TestLoss">Test loss, or NaN without a test set.</param>
/// <param name="TestAccuracy">Test accuracy, or NaN without a test set.</param>
/// <param name="LearningRate">Learning rate at the end of the epoch.</param>
/// <param name="Seconds">Wall time of the training part of the epoch.</param>
/// <param name="ImagesPerSecond">Training throughput.</param>
public sealed record EpochResult(int Epoch, int Epochs, float TrainLoss, float TrainAccuracy, float TestLoss, float TestAccuracy, float LearningRate, double Seconds, double ImagesPerSecond)
{
    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"epoch {Epoch}/{Epochs}: loss {TrainLoss:F4}, train {TrainAccuracy:P2}, test {TestAccuracy:P2} (loss {TestLoss:F4}), lr {LearningRate:G3}, {Seconds:F1} s, {ImagesPerSecond:F0} img/s");
}

/// <summary>Progress inside an epoch, reported after every batch.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Epochs">Epochs in the run.</param>
/// <param name="Batch">Batches done in this epoch.</param>
/// <param name="Batches">Batches per epoch.</param>
/// <param name="Loss">Running mean loss of this epoch.</param>
public readonly record struct TrainingProgress(int Epoch, int Epochs, int Batch, int Batches, float Loss);

/// <summary>Loss and accuracy of a network on a data set.</summary>
/// <param name="Loss">Mean cross-entropy.</param>
/// <param name="Accuracy">Fraction of samples whose largest output is the label.</param>
/// <param name="Count">Samples evaluated.</param>
public sealed record Evaluation(float Loss, float Accuracy, int Count);

/// <summary>The loss stopped being a finite number: training cannot continue.</summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public TrainingDivergedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public TrainingDivergedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Trains a generated network with softmax cross-entropy on a labelled data set: shuffled,
/// augmented mini-batches, the network's generated forward and backward passes, an optimizer and a
/// learning-rate schedule, evaluation after each epoch and, optionally, an atomic checkpoint with the
/// optimizer state so a run can resume. Stops with <see cref="TrainingDivergedException"/> when the
/// loss becomes NaN or infinite (the last checkpoint stays intact).
/// </summary>
public sealed class Trainer
{
    private const string EpochKey = "trainer.epoch";
    private const string StepKey = "trainer.optimizer_step";
    private const string OptimizerPrefix = "optimizer.";

    private readonly ITrainableNetwork _network;
    private readonly Optimizer _optimizer;
    private readonly LearningRateSchedule _schedule;
    private readonly TrainingOptions _options;
    private int _completedEpochs;

    /// <summary>Creates a trainer.</summary>
    public Trainer(ITrainableNetwork network, Optimizer optimizer, LearningRateSchedule schedule, TrainingOptions? options = null)
    {
        _network = network ?? throw new ArgumentNullException(nameof(network));
        _optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        _schedule = schedule ?? throw new ArgumentNullException(nameof(schedule));
        _options = options ?? new TrainingOptions();
        if (!ReferenceEquals(optimizer.Parameters, network.Parameters))
        {
            throw new ArgumentException("The optimizer was created for another network's parameters.", nameof(optimizer));
        }

        if (_options.Epochs < 1 || _options.BatchSize < 1 || _options.EvaluationBatchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Epochs and batch sizes must be at least 1.");
        }
    }

    /// <summary>Called after every batch (keep it cheap: it runs on the training thread).</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }

    /// <summary>Called after every epoch, once its metrics are known.</summary>
    public Action<EpochResult>? EpochCompleted { get; init; }

    /// <summary>Epochs already done (restored by <see cref="Resume"/>).</summary>
    public int CompletedEpochs => _completedEpochs;

    /// <summary>
    /// Restores weights, running statistics, optimizer state and the epoch counter from a checkpoint
    /// written by this trainer, so that <see cref="Fit"/> continues where that run stopped.
    /// </summary>
    public void Resume(string checkpointPath)
    {
        var contents = Checkpoint.Load(_network, checkpointPath);
        foreach (var tensor in contents.ExtraTensors.Where(t => t.Name.StartsWith(OptimizerPrefix, StringComparison.Ordinal)))
        {
            _optimizer.LoadState(tensor.Name[OptimizerPrefix.Length..], tensor.Data);
        }

        _completedEpochs = contents.Metadata.TryGetValue(EpochKey, out var e) && int.TryParse(e, NumberStyles.Integer, CultureInfo.InvariantCulture, out var epoch) ? epoch : 0;
        _optimizer.Step = contents.Metadata.TryGetValue(StepKey, out var s) && long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var step) ? step : 0;
    }

    /// <summary>Trains until <see cref="TrainingOptions.Epochs"/> epochs are done; returns the metrics of the epochs run now.</summary>
    public IReadOnlyList<EpochResult> Fit(Dataset train, Dataset? test = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        CheckShape(train);
        if (test is not null)
        {
            CheckShape(test);
        }

        var iterator = new BatchIterator(train, _options.BatchSize, new BatchIteratorOptions
        {
            Shuffle = true,
            Seed = _options.Seed,
            Augmentation = _options.Augmentation,
            DropLast = train.Count >= _options.BatchSize,
        });
        var images = iterator.CreateImageBuffer();
        var labels = iterator.CreateLabelBuffer();
        var gradient = new float[_options.BatchSize * _network.OutputSize];
        var totalSteps = (long)iterator.BatchesPerEpoch * _options.Epochs;
        var results = new List<EpochResult>();
        _network.DropoutState = _options.Seed * 0x9E3779B97F4A7C15UL;

        for (var epoch = _completedEpochs + 1; epoch <= _options.Epochs; epoch++)
        {
            iterator.StartEpoch(epoch - 1);
            var clock = Stopwatch.StartNew();
            double lossSum = 0;
            long correct = 0, seen = 0;
            var batchIndex = 0;
            var rate = 0f;
            int count;
            while ((count = iterator.Next(images, labels)) > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var output = _network.TrainForward(images.AsSpan(0, count * _network.InputSize), count);
                var loss = Losses.SoftmaxCrossEntropy(output, labels.AsSpan(0, count), _network.OutputSize, gradient, _options.LabelSmoothing);
                if (!float.IsFinite(loss))
                {
                    var kept = _options.CheckpointPath is { } path && _completedEpochs > 0
                        ? $" The last good checkpoint (epoch {_completedEpochs}) is intact at '{path}'."
                        : string.Empty;
                    throw new TrainingDivergedException(string.Create(CultureInfo.InvariantCulture,
                        $"Training diverged: the loss became {loss} at epoch {epoch}, batch {batchIndex + 1} (learning rate {rate:G3}); the parameters are no longer usable.{kept} Lower the learning rate, add warm-up, or check the input data for NaN/Inf."));
                }

                correct += CountCorrect(output, labels.AsSpan(0, count), _network.OutputSize);
                seen += count;
                lossSum += loss * count;
                _network.Backward(gradient, count);
                rate = _schedule.At(_optimizer.Step, totalSteps);
                _optimizer.Update(rate);
                batchIndex++;
                Progress?.Report(new TrainingProgress(epoch, _options.Epochs, batchIndex, iterator.BatchesPerEpoch, (float)(lossSum / seen)));
            }

            clock.Stop();
            var evaluation = test is null ? null : Evaluate(_network, test, _options.EvaluationBatchSize);
            var result = new EpochResult(epoch, _options.Epochs, (float)(lossSum / seen), (float)correct / seen,
                evaluation?.Loss ?? float.NaN, evaluation?.Accuracy ?? float.NaN, rate, clock.Elapsed.TotalSeconds, seen / clock.Elapsed.TotalSeconds);
            _completedEpochs = epoch;
            if (_options.CheckpointPath is { } checkpoint)
            {
                SaveCheckpoint(checkpoint);
            }

            results.Add(result);
            EpochCompleted?.Invoke(result);
        }

        return results;
    }

    /// <summary>Saves weights, running statistics, optimizer state and the epoch counter, atomically.</summary>
    public void SaveCheckpoint(string path)
    {
        var metadata = new Dictionary<string, string>
        {
            [EpochKey] = _completedEpochs.ToString(CultureInfo.InvariantCulture),
            [StepKey] = _optimizer.Step.ToString(CultureInfo.InvariantCulture),
        };
        var state = _optimizer.State.Select(s => new SafetensorsTensor(OptimizerPrefix + s.Key, new[] { s.Value.Length }, s.Value));
        Checkpoint.Save(_network, path, metadata, state);
    }

    /// <summary>Evaluates <paramref name="network"/> in inference mode on <paramref name="data"/>.</summary>
    public static Evaluation Evaluate(INetwork network, Dataset data, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        var iterator = new BatchIterator(data, batchSize, BatchIteratorOptions.Evaluation);
        var images = iterator.CreateImageBuffer();
        var labels = iterator.CreateLabelBuffer();
        var output = new float[batchSize * network.OutputSize];
        var gradient = new float[batchSize * network.OutputSize];
        double lossSum = 0;
        long correct = 0;
        int count;
        iterator.StartEpoch(0);
        while ((count = iterator.Next(images, labels)) > 0)
        {
            network.Forward(images.AsSpan(0, count * network.InputSize), output, count);
            lossSum += Losses.SoftmaxCrossEntropy(output.AsSpan(0, count * network.OutputSize), labels.AsSpan(0, count), network.OutputSize, gradient) * count;
            correct += CountCorrect(output, labels.AsSpan(0, count), network.OutputSize);
        }

        return new Evaluation((float)(lossSum / data.Count), (float)correct / data.Count, data.Count);
    }

    private void CheckShape(Dataset data)
    {
        if (data.SampleSize != _network.InputSize)
        {
            throw new ArgumentException($"Data set '{data.Name}' has samples of {data.Channels}×{data.Height}×{data.Width} = {data.SampleSize} floats, but network '{_network.Graph.Name}' takes {_network.Graph.InputShape} = {_network.InputSize}.", nameof(data));
        }

        if (data.ClassCount > _network.OutputSize)
        {
            throw new ArgumentException($"Data set '{data.Name}' has {data.ClassCount} classes, but network '{_network.Graph.Name}' outputs {_network.OutputSize} values.", nameof(data));
        }
    }

    private static long CountCorrect(ReadOnlySpan<float> output, ReadOnlySpan<int> labels, int classes)
    {
        long correct = 0;
        for (var n = 0; n < labels.Length; n++)
        {
            var row = output.Slice(n * classes, classes);
            var best = 0;
            for (var i = 1; i < classes; i++)
            {
                if (row[i] > row[best])
                {
                    best = i;
                }
            }

            correct += best == labels[n] ? 1 : 0;
        }

        return correct;
    }
}
