using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
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

    /// <summary>
    /// Seed of the data order, augmentation and dropout masks. Each epoch's randomness is a function of
    /// (seed, epoch) only, so a run resumed from a checkpoint continues exactly as the uninterrupted run would
    /// have, and the same seed gives bit-identical runs for the same kernel thread count and SIMD width
    /// (the convolution backward splits a batch into one part per worker thread and sums the parts' weight
    /// gradients in a fixed order, so <c>PRUNEGEN_THREADS</c> or the core count changes the last bits).
    /// </summary>
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

/// <summary>
/// The loss stopped being a finite number: training cannot continue. The message says whether it became NaN
/// or infinite, at which epoch and batch, and which checkpoint (if any) is still good.
/// </summary>
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
    /// <summary>
    /// Checkpoint metadata key: epochs completed. (Not under <c>prunegen.</c>: <see cref="Checkpoint.Save"/>
    /// reserves that prefix for its own keys and rejects it in caller metadata.)
    /// </summary>
    public const string EpochKey = "training.epoch";

    /// <summary>Checkpoint metadata key: optimizer steps taken (drives the schedule and AdamW's bias correction).</summary>
    public const string StepKey = "training.optimizer_step";

    /// <summary>Prefix of optimizer state tensors in a checkpoint, e.g. <c>optimizer.conv1.weight.momentum</c>.</summary>
    public const string OptimizerPrefix = "optimizer.";

    /// <summary>Stream of <see cref="SplitMix64.Derive"/> for dropout masks (the batch iterator uses 1 and 2).</summary>
    private const ulong DropoutPurpose = 3;

    private readonly ITrainableNetwork _network;
    private readonly Optimizer _optimizer;
    private readonly LearningRateSchedule _schedule;
    private readonly TrainingOptions _options;
    private int _completedEpochs;

    /// <summary>The checkpoint last written or resumed from, and the epochs it holds.</summary>
    private (string Path, int Epoch)? _lastCheckpoint;

    /// <summary>Creates a trainer.</summary>
    public Trainer(ITrainableNetwork network, Optimizer optimizer, LearningRateSchedule schedule, TrainingOptions? options = null)
    {
        _network = network ?? throw new ArgumentNullException(nameof(network));
        _optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        _schedule = schedule ?? throw new ArgumentNullException(nameof(schedule));
        _options = options ?? new TrainingOptions();
        if (!ReferenceEquals(optimizer.Parameters, network.Parameters))
        {
            throw new ArgumentException($"The {optimizer.GetType().Name} optimizer was created for another network's parameters, not for this '{network.Graph.Name}' instance's; create it with this network's Parameters (e.g. new Sgd(network.Parameters)).", nameof(optimizer));
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
    /// written by a trainer (<see cref="SaveCheckpoint"/>), so that <see cref="Fit"/> continues where that run
    /// stopped. With the same options, data and seed the continued run is identical to an uninterrupted one.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a trainer checkpoint (no epoch/step metadata) or is malformed.</exception>
    /// <exception cref="CheckpointMismatchException">The file's tensors do not fit the network.</exception>
    /// <exception cref="ArgumentException">The file's optimizer state does not fit this optimizer (another kind or settings).</exception>
    public void Resume(string checkpointPath)
    {
        var contents = Checkpoint.Load(_network, checkpointPath);
        var epoch = ReadCounter(contents, EpochKey);
        var step = ReadCounter(contents, StepKey);
        foreach (var tensor in contents.ExtraTensors.Where(t => t.Name.StartsWith(OptimizerPrefix, StringComparison.Ordinal)))
        {
            _optimizer.LoadState(tensor.Name[OptimizerPrefix.Length..], tensor.Data);
        }

        _completedEpochs = (int)Math.Min(epoch, int.MaxValue);
        _optimizer.Step = step;
        _lastCheckpoint = (Path.GetFullPath(checkpointPath), _completedEpochs);

        static long ReadCounter(CheckpointContents contents, string key) =>
            contents.Metadata.TryGetValue(key, out var text) && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw new InvalidDataException($"'{contents.Path}' is not a training checkpoint: its metadata has no valid '{key}' (found {(text is null ? "nothing" : $"'{text}'")}). Trainer.Resume needs a file written by Trainer.SaveCheckpoint or TrainingOptions.CheckpointPath; use Checkpoint.Load to load weights alone.");
    }

    /// <summary>
    /// Called after the backward pass and before each optimizer update, with the parameters and their
    /// gradients: add regularizer gradients here (e.g. <see cref="Pruning.SparseTraining"/>'s L1 on BatchNorm γ).
    /// </summary>
    public Action<ParameterSet>? BeforeUpdate { get; init; }

    /// <summary>Called after each optimizer update (e.g. to re-apply a <see cref="Pruning.PruningMask"/> while fine-tuning).</summary>
    public Action? AfterUpdate { get; init; }

    /// <summary>Knowledge distillation from a teacher network (e.g. the unpruned one); null trains on labels alone.</summary>
    public Distillation? Distillation { get; init; }

    /// <summary>Trains until <see cref="TrainingOptions.Epochs"/> epochs are done; returns the metrics of the epochs run now.</summary>
    public IReadOnlyList<EpochResult> Fit(Dataset train, Dataset? test = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        CheckShape(_network, train);
        if (test is not null)
        {
            CheckShape(_network, test);
        }

        if (train.Count == 0)
        {
            throw new ArgumentException($"The training set '{train.Name}' is empty.", nameof(train));
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
        var teacherLogits = Distillation is null ? [] : new float[_options.BatchSize * _network.OutputSize];
        if (Distillation is { } teacher && (teacher.Teacher.InputSize != _network.InputSize || teacher.Teacher.OutputSize != _network.OutputSize))
        {
            throw new ArgumentException($"The teacher '{teacher.Teacher.Graph.Name}' maps {teacher.Teacher.InputSize} → {teacher.Teacher.OutputSize} floats, the student '{_network.Graph.Name}' {_network.InputSize} → {_network.OutputSize}; they must agree.");
        }

        var totalSteps = (long)iterator.BatchesPerEpoch * _options.Epochs;
        var results = new List<EpochResult>();

        // Backward accumulates into the gradients and Update clears them: start from zero whatever happened before.
        _network.Parameters.ZeroGradients();
        var rate = _schedule.At(_optimizer.Step, totalSteps);

        for (var epoch = _completedEpochs + 1; epoch <= _options.Epochs; epoch++)
        {
            // Everything random in an epoch (order, augmentation, dropout) is a function of (seed, epoch), so
            // an epoch replays identically after Resume.
            iterator.StartEpoch(epoch - 1);
            _network.DropoutState = SplitMix64.Derive(_options.Seed, (ulong)epoch, DropoutPurpose);
            var clock = Stopwatch.StartNew();
            double lossSum = 0;
            long correct = 0, seen = 0;
            var batchIndex = 0;
            int count;
            while ((count = iterator.Next(images, labels)) > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var output = _network.TrainForward(images.AsSpan(0, count * _network.InputSize), count);
                float loss;
                if (Distillation is { } kd)
                {
                    kd.Teacher.Forward(images.AsSpan(0, count * _network.InputSize), teacherLogits.AsSpan(0, count * _network.OutputSize), count);
                    loss = Losses.Distillation(output, teacherLogits.AsSpan(0, count * _network.OutputSize), labels.AsSpan(0, count), _network.OutputSize, gradient, kd.Temperature, kd.Alpha);
                }
                else
                {
                    loss = Losses.SoftmaxCrossEntropy(output, labels.AsSpan(0, count), _network.OutputSize, gradient, _options.LabelSmoothing);
                }

                if (!float.IsFinite(loss))
                {
                    throw Diverged(loss, epoch, batchIndex + 1, iterator.BatchesPerEpoch, rate);
                }

                correct += CountCorrect(output, labels.AsSpan(0, count), _network.OutputSize);
                seen += count;
                lossSum += loss * count;
                _network.Backward(gradient, count);
                BeforeUpdate?.Invoke(_network.Parameters);
                rate = _schedule.At(_optimizer.Step, totalSteps);
                _optimizer.Update(rate);
                AfterUpdate?.Invoke();
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
        ArgumentException.ThrowIfNullOrEmpty(path);
        var metadata = new Dictionary<string, string>
        {
            [EpochKey] = _completedEpochs.ToString(CultureInfo.InvariantCulture),
            [StepKey] = _optimizer.Step.ToString(CultureInfo.InvariantCulture),
        };
        var state = _optimizer.State.Select(s => new SafetensorsTensor(OptimizerPrefix + s.Key, new[] { s.Value.Length }, s.Value));
        Checkpoint.Save(_network, path, metadata, state);
        _lastCheckpoint = (Path.GetFullPath(path), _completedEpochs);
    }

    /// <summary>Evaluates <paramref name="network"/> in inference mode on <paramref name="data"/>.</summary>
    public static Evaluation Evaluate(INetwork network, Dataset data, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        CheckShape(network, data);
        if (data.Count == 0)
        {
            throw new ArgumentException($"The data set '{data.Name}' is empty.", nameof(data));
        }

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

    private TrainingDivergedException Diverged(float loss, int epoch, int batch, int batches, float rate)
    {
        var what = float.IsNaN(loss) ? "NaN" : float.IsPositiveInfinity(loss) ? "+∞ (infinite)" : "−∞ (infinite)";
        var checkpoint = _lastCheckpoint is { } last
            ? $" The last good checkpoint, '{last.Path}' (epoch {last.Epoch}), is intact: it was not overwritten; Resume from it."
            : _options.CheckpointPath is { } path
                ? $" No checkpoint had been written yet ('{path}' is written after each completed epoch)."
                : " No checkpoint was being written (TrainingOptions.CheckpointPath is null).";
        return new TrainingDivergedException(string.Create(CultureInfo.InvariantCulture,
            $"Training diverged: the loss became {what} at epoch {epoch}/{_options.Epochs}, batch {batch}/{batches} (learning rate {rate:G3}); the network's parameters may no longer be usable.{checkpoint} Lower the learning rate, add warm-up, or check the input data for NaN/Inf."));
    }

    private static void CheckShape(INetwork network, Dataset data)
    {
        if (data.SampleSize != network.InputSize)
        {
            throw new ArgumentException($"Data set '{data.Name}' has samples of {data.Channels}×{data.Height}×{data.Width} = {data.SampleSize} floats, but network '{network.Graph.Name}' takes {network.Graph.InputShape} = {network.InputSize} floats per sample.", nameof(data));
        }

        if (data.ClassCount > network.OutputSize)
        {
            throw new ArgumentException($"Data set '{data.Name}' has {data.ClassCount} classes, but network '{network.Graph.Name}' outputs {network.OutputSize} values.", nameof(data));
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

/// <summary>Knowledge distillation settings: the teacher and the loss mix (see <see cref="Losses.Distillation"/>).</summary>
/// <param name="Teacher">The teacher network (inference mode), e.g. the unpruned network.</param>
/// <param name="Temperature">Softening temperature T.</param>
/// <param name="Alpha">Weight of the teacher term.</param>
public sealed record Distillation(INetwork Teacher, float Temperature = 4f, float Alpha = 0.5f);
