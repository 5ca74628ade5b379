using PruneGen;

namespace PruneGen.Examples.Networks;

/// <summary>
/// <see cref="TinyResNet"/> pruned to half its MACs by L1 magnitude (uniform allocation, residual streams pruned as coupled
/// groups: widths 11/23/45 from 16/32/64): the plan of the 93.02 % run in <c>docs/runs/resnet-2x-6ep</c>.
/// </summary>
[PrunedNetwork(typeof(TinyResNet), "Pruned/Plans/resnet.l1.2x.plan.json")]
public partial class TinyResNetL1Half;

/// <summary>
/// <see cref="TinyResNet"/> pruned to a quarter of its MACs by L1 magnitude (uniform allocation: widths 8/16/31). Its plan
/// came from a smoke run (a checkpoint trained one epoch on 512 images): uniform allocation gives these widths whatever
/// the weights, so it serves the latency benchmarks; which channels it keeps was not chosen on a trained network.
/// </summary>
[PrunedNetwork(typeof(TinyResNet), "Pruned/Plans/resnet.l1.4x.plan.json")]
public partial class TinyResNetL1Quarter;
