using PruneGen;

namespace PruneGen.Examples.Networks;

/// <summary>The reference MLP: 784-256-128-10 with ReLU.</summary>
[Network(1, 28, 28)]
[Flatten]
[Dense("fc1", 256), ReLU]
[Dense("fc2", 128), ReLU]
[Dense("logits", 10)]
public partial class Mlp;
