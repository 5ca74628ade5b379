namespace PruneGen.Tests.Training;

// Networks for the training-component tests (losses, optimizers, schedules, trainer).

/// <summary>Every kind of parameter an optimizer must tell apart: conv weight/bias, BatchNorm γ/β and running statistics, dense weight/bias.</summary>
[Network(1, 4, 4)]
[Conv2D("conv", 2, 3, Padding = 1), BatchNorm("bn"), ReLU]
[Flatten]
[Dense("fc", 3)]
public partial class OptimizerTestNet;

/// <summary>
/// A small CNN with everything that makes training stateful or parallel: threaded convolution backward,
/// BatchNorm running statistics, dropout masks (≈0.33 M MACs per sample, about as cheap as LeNet-5).
/// </summary>
[Network(1, 28, 28)]
[Conv2D("conv1", 8, 3, Padding = 1), BatchNorm("bn1"), ReLU, MaxPool2D(2)]
[Conv2D("conv2", 16, 3, Padding = 1), BatchNorm("bn2"), ReLU, MaxPool2D(2)]
[Flatten]
[Dense("fc1", 64), ReLU, Dropout(0.25)]
[Dense("logits", 10)]
public partial class TrainerTestNet;
