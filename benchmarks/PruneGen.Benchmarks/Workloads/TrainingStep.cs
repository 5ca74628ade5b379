using System.Diagnostics;
using PruneGen.Training;

namespace PruneGen.Benchmarks.Workloads;

/// <summary>
/// One SGD training step as <see cref="Trainer"/> does it: TrainForward, softmax cross-entropy with
/// its gradient, Backward, and a Nesterov-momentum SGD update (which also clears the gradients).
/// </summary>
public sealed class TrainingStep
{
    private readonly ITrainableNetwork _network;
    private readonly float[] _images;
    private readonly int[] _labels;
    private readonly float[] _gradient;
    private readonly Sgd _optimizer;

    /// <summary>Creates the step for <paramref name="name"/> on a fixed random batch.</summary>
    public TrainingStep(string name, int batch)
    {
        _network = ReferenceNetworks.CreateForTraining(name);
        _network.DropoutState = 7;
        Batch = batch;
        _images = ReferenceNetworks.RandomImages(_network, batch, seed: 11);
        _labels = ReferenceNetworks.RandomLabels(batch, _network.OutputSize, seed: 12);
        _gradient = new float[batch * _network.OutputSize];
        _optimizer = new Sgd(_network.Parameters, momentum: 0.9f, nesterov: true) { WeightDecay = 5e-4f };
    }

    /// <summary>Samples per step.</summary>
    public int Batch { get; }

    /// <summary>Loss of the last step.</summary>
    public float LastLoss { get; private set; }

    /// <summary>Learning rate of every step (small: the same batch is seen again and again).</summary>
    public const float LearningRate = 0.01f;

    /// <summary>Runs one step and returns the time in ms of its phases: TrainForward (with the loss), Backward, optimizer update.</summary>
    public (double Forward, double Backward, double Update) RunTimed()
    {
        var t0 = Stopwatch.GetTimestamp();
        var output = _network.TrainForward(_images, Batch);
        LastLoss = Losses.SoftmaxCrossEntropy(output, _labels, _network.OutputSize, _gradient);
        var t1 = Stopwatch.GetTimestamp();
        _network.Backward(_gradient, Batch);
        var t2 = Stopwatch.GetTimestamp();
        _optimizer.Update(LearningRate);
        var t3 = Stopwatch.GetTimestamp();
        return (Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds, Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds, Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds);
    }

    /// <summary>Runs one step.</summary>
    public void Run()
    {
        var output = _network.TrainForward(_images, Batch);
        LastLoss = Losses.SoftmaxCrossEntropy(output, _labels, _network.OutputSize, _gradient);
        _network.Backward(_gradient, Batch);
        _optimizer.Update(LearningRate);
    }
}
