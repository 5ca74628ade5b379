using PruneGen;

namespace PruneGen.Examples.Networks;

/// <summary>LeNet-5: conv 6@5×5 pad 2 → ReLU → maxpool 2 → conv 16@5×5 → ReLU → maxpool 2 → fc 120 → 84 → 10.</summary>
[Network(1, 28, 28)]
[Conv2D("conv1", 6, 5, Padding = 2), ReLU, MaxPool2D(2)]
[Conv2D("conv2", 16, 5), ReLU, MaxPool2D(2)]
[Flatten]
[Dense("fc1", 120), ReLU]
[Dense("fc2", 84), ReLU]
[Dense("logits", 10)]
public partial class LeNet5;
