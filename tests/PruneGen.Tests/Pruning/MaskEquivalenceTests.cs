using PruneGen.Model.Pruning;
using PruneGen.Pruning;
using static PruneGen.Tests.Numerics.Numerics;
using static PruneGen.Tests.Pruning.PruningTestSupport;

namespace PruneGen.Tests.Pruning;

/// <summary>
/// A plan applied as masks on the unpruned network computes what the physically sliced network
/// computes: the float masked <c>Forward</c> against the pruned graph run by the double-precision
/// reference interpreter (and, for VGG, against a hand-declared network of the pruned widths).
/// Random weights and non-trivial BatchNorm running statistics everywhere.
/// </summary>
public sealed class MaskEquivalenceTests
{
    private const int Batch = 3;

    /// <summary>Masks <paramref name="network"/> with <paramref name="plan"/> and compares it with the sliced network; returns the sliced weights.</summary>
    private static PrunedWeights AssertMaskedEqualsSliced(INetwork network, PruningPlan plan, int seed)
    {
        Randomize(network, seed);
        var input = RandomInput(Batch * network.InputSize, seed + 100);
        var before = Forward(network, input, Batch);
        var pruned = PlanSlicer.Slice(network, plan);
        PruningMask.Create(network.Graph, plan).Apply(network.Parameters);
        var masked = Forward(network, input, Batch);

        // The plan must matter, or the comparison proves nothing.
        Assert.True(before.Zip(masked).Max(p => Math.Abs(p.First - p.Second)) > 1e-3, "masking changed nothing; the test plan is too weak");
        AssertClose(masked, RunPruned(pruned, input, Batch), $"{network.Graph.Name}: masked vs sliced");
        return pruned;
    }

    [Fact]
    public void VggLikeMaskedEqualsSlicedAndAHandDeclaredPrunedNetwork()
    {
        INetwork net = new PrVgg();
        var plan = Plan(net, ("conv1", [0, 2, 3, 5]), ("conv2", [1, 2, 4, 6, 7]), ("fc1", [0, 1, 3, 4, 6, 8, 9]));
        var pruned = AssertMaskedEqualsSliced(net, plan, 1);

        // The pruned graph is the hand-declared network of the kept widths, and its weights load into it.
        INetwork small = new PrVggSmall();
        Assert.Equal(PrVggSmall.Graph.AllParameters.Select(p => (p.Name, string.Join("x", p.Shape))), pruned.Graph.AllParameters.Select(p => (p.Name, string.Join("x", p.Shape))));
        Assert.Equal(PrVggSmall.Graph.TotalMacs, pruned.Graph.TotalMacs);
        pruned.CopyTo(small.Parameters);
        var input = RandomInput(Batch * net.InputSize, 101);
        AssertClose(Forward(small, input, Batch), Forward(net, input, Batch), "hand-declared pruned network vs masked");

        // Kept channels keep their values in the plan's order: conv2's kept filter 2 is the base filter 4.
        var w = pruned["conv2.weight"].Data;
        Assert.Equal(net.Parameters["conv2.weight"].Data.AsSpan(4 * 6 * 9, 9).ToArray(), w.AsSpan(2 * 4 * 9, 9).ToArray()); // base in-channel 0 is kept index 0
    }

    [Theory]
    [InlineData("")]
    [InlineData("b3")]
    [InlineData("b1,b3")]
    public void ResidualMaskedEqualsSliced(string blocks)
    {
        var removedBlocks = blocks.Split(',', StringSplitOptions.RemoveEmptyEntries);
        // Needs NetworkBuilder.Build(declaration, overrides) to apply widths inside residual blocks.
        INetwork net = new PrResNet();
        var groups = new List<(string, int[])> { ("stem", [0, 1, 3]), ("b2.conv1", [0, 2, 3, 4, 5]), ("b2.conv2", [0, 2, 3, 5]) };
        if (!removedBlocks.Contains("b1"))
        {
            groups.Add(("b1.conv1", [1, 2]));
        }

        if (!removedBlocks.Contains("b3"))
        {
            groups.Add(("b3.conv1", [0, 1, 5]));
        }

        var plan = Plan(net, removedBlocks, [.. groups]);
        var pruned = AssertMaskedEqualsSliced(net, plan, 2);
        foreach (var b in removedBlocks)
        {
            Assert.DoesNotContain(pruned.Graph.Layers, l => l.Block == b);
        }
    }

    [Fact]
    public void ConcatMaskedEqualsSliced()
    {
        INetwork net = new PrConcat();
        var pruned = AssertMaskedEqualsSliced(net, Plan(net, ("a", [0, 2]), ("b", [1, 3]), ("c", [0, 1, 4])), 3);
        Assert.Equal([3, (3 + 2 + 2) * 9], pruned["logits.weight"].Shape); // cat2 = [c (3 kept), pool of cat (a 2 + b 2 kept)]
    }

    [Fact]
    public void DepthwiseMaskedEqualsSliced()
    {
        INetwork net = new PrDepthwise();
        var pruned = AssertMaskedEqualsSliced(net, Plan(net, ("pw1", [0, 2, 3, 5]), ("pw2", [1, 2, 4])), 4);
        Assert.Equal([4, 1, 3, 3], pruned["dw.weight"].Shape);
        Assert.Equal([4], pruned["bn2.running_var"].Shape);
    }

    [Fact]
    public void DepthwiseDeclaredAsAGroupedConvolutionMaskedEqualsSliced()
    {
        var groups = ChannelGroups.Analyze(PrGroupedDepthwise.Graph);
        Assert.Equal(["pw"], groups.Find("pw")!.Producers);
        Assert.Contains("dwx.weight@0+0x1", groups.Find("pw")!.Slices.Select(Describe));

        INetwork net = new PrGroupedDepthwise();
        var pruned = AssertMaskedEqualsSliced(net, Plan(net, ("pw", [1, 2, 5])), 11);
        Assert.Equal(3, pruned.Graph.Find("dwx")!.Groups);
        Assert.Equal([3, 1, 3, 3], pruned["dwx.weight"].Shape);
    }

    [Fact]
    public void BatchNormOverFlattenedFeaturesIsSlicedInBlocks()
    {
        Assert.Equal(
            ["c.weight@0+0x1", "c.bias@0+0x1", "bnf.weight@0+0x16", "bnf.bias@0+0x16", "bnf.running_mean@0+0x16", "bnf.running_var@0+0x16", "logits.weight@1+0x16"],
            ChannelGroups.Analyze(PrFlatBatchNorm.Graph).Find("c")!.Slices.Select(Describe));
        INetwork net = new PrFlatBatchNorm();
        var pruned = AssertMaskedEqualsSliced(net, Plan(net, ("c", [0, 2])), 12);
        Assert.Equal(net.Parameters["bnf.running_mean"].Data.AsSpan(32, 16).ToArray(), pruned["bnf.running_mean"].Data.AsSpan(16, 16).ToArray());
    }

    [Fact]
    public void VggNetPlannedToHalfItsMacsMaskedEqualsSliced()
    {
        // The example network end to end: L1 scores, a MAC target with SIMD-friendly multiples, slicing, one sample.
        INetwork net = new PruneGen.Examples.Networks.VggNet();
        Randomize(net, 13);
        var plan = Pruner.Plan(net, new PruningOptions { Allocation = new AllocationOptions { Target = PruningTarget.MacsFraction(0.5), Multiple = 8 } });
        Assert.All(plan.Groups, g => Assert.Equal(0, g.Kept.Count % 8));
        Assert.True(plan.Summary!.Macs <= 0.5 * plan.Summary.BaseMacs);
        var input = RandomInput(net.InputSize, 14);
        var pruned = PlanSlicer.Slice(net, plan);
        PruningMask.Create(net.Graph, plan).Apply(net.Parameters);
        AssertClose(Forward(net, input, 1), RunPruned(pruned, input, 1), "VggNet masked vs sliced");
        Assert.Equal(plan.Summary.Macs, pruned.Graph.TotalMacs);
    }

    [Fact]
    public void TinyResNetPlannedWithARemovedBlockMaskedEqualsSliced()
    {
        // Needs NetworkBuilder.Build(declaration, overrides) to apply widths inside residual blocks and remove blocks.
        INetwork net = new PruneGen.Examples.Networks.TinyResNet();
        Randomize(net, 15);
        var plan = Pruner.Plan(net, new PruningOptions { Allocation = new AllocationOptions { Target = PruningTarget.MacsFraction(0.6), Global = true } }, removedBlocks: ["s2b2"]);
        Assert.Equal(["s2b2"], plan.RemovedBlocks);
        Assert.DoesNotContain(plan.Groups, g => g.Name.StartsWith("s2b2.", StringComparison.Ordinal));
        Assert.True(plan.Summary!.Macs <= 0.6 * plan.Summary.BaseMacs);
        var input = RandomInput(net.InputSize, 16);
        var pruned = PlanSlicer.Slice(net, plan);
        PruningMask.Create(net.Graph, plan).Apply(net.Parameters);
        AssertClose(Forward(net, input, 1), RunPruned(pruned, input, 1), "TinyResNet masked vs sliced");
        Assert.Equal(plan.Summary.Macs, pruned.Graph.TotalMacs);
    }

    [Fact]
    public void SigmoidTanhAndLeakyReluMaskedEqualsSliced()
    {
        INetwork net = new PrSigmoid();
        AssertMaskedEqualsSliced(net, Plan(net, ("conv1", [0, 1, 3]), ("conv2", [0, 2, 3, 5]), ("fc", [0, 1, 2, 4, 6])), 5);
    }

    [Fact]
    public void RemovingChannelsWhoseWeightsAreAllZeroLeavesTheOutputUnchanged()
    {
        INetwork net = new PrVgg();
        Randomize(net, 6);
        var p = net.Parameters;

        // conv1 channel 1 and conv2 channel 3: every weight they own, zeroed by hand.
        p["conv1.weight"].Data.AsSpan(1 * 18, 18).Clear();
        p["conv1.bias"].Data[1] = 0;
        p["bn1.weight"].Data[1] = 0;
        p["bn1.bias"].Data[1] = 0;
        for (var o = 0; o < 8; o++)
        {
            p["conv2.weight"].Data.AsSpan((o * 54) + 9, 9).Clear();
        }

        p["conv2.weight"].Data.AsSpan(3 * 54, 54).Clear();
        p["conv2.bias"].Data[3] = 0;
        p["bn2.weight"].Data[3] = 0;
        p["bn2.bias"].Data[3] = 0;
        for (var o = 0; o < 10; o++)
        {
            p["fc1.weight"].Data.AsSpan((o * 128) + 48, 16).Clear();
        }

        var input = RandomInput(Batch * net.InputSize, 7);
        var output = Forward(net, input, Batch);
        var pruned = PlanSlicer.Slice(net, Plan(net, ("conv1", [0, 2, 3, 4, 5]), ("conv2", [0, 1, 2, 4, 5, 6, 7])));
        AssertClose(output, RunPruned(pruned, input, Batch), "zero channels removed");
    }

    [Fact]
    public void RemovingZeroChannelsBeforeASigmoidLeavesTheOutputUnchanged()
    {
        // sigmoid(0) = 0.5: the removed channel still carries a value, which only the zeroed consumer columns hide.
        INetwork net = new PrSigmoid();
        Randomize(net, 8);
        var p = net.Parameters;
        p["conv1.weight"].Data.AsSpan(2 * 18, 18).Clear();
        p["conv1.bias"].Data[2] = 0;
        p["bn1.weight"].Data[2] = 0;
        p["bn1.bias"].Data[2] = 0;
        for (var o = 0; o < 6; o++)
        {
            p["conv2.weight"].Data.AsSpan((o * 45) + 18, 9).Clear();
        }

        var input = RandomInput(Batch * net.InputSize, 9);
        var output = Forward(net, input, Batch);
        var pruned = PlanSlicer.Slice(net, Plan(net, ("conv1", [0, 1, 3, 4])));
        AssertClose(output, RunPruned(pruned, input, Batch), "zero channel before a sigmoid removed");
    }

    [Fact]
    public void MaskZeroesEveryRemovedEntryAndOnlyThose()
    {
        INetwork net = new PrConcat();
        Randomize(net, 10);
        var before = Snapshot(net);
        var mask = PruningMask.Create(net.Graph, Plan(net, ("b", [0, 2, 3])));
        mask.Apply(net.Parameters);

        // b channel 1 owns b.weight row 1 (2 values), b.bias[1], c.weight input channel 3+1 = 4 and logits columns 72+9..72+17.
        var expectedZero = new Dictionary<string, HashSet<int>>
        {
            ["b.weight"] = [2, 3],
            ["b.bias"] = [1],
            ["c.weight"] = [.. Enumerable.Range(0, 5).SelectMany(o => Enumerable.Range((o * 63) + 36, 9))],
            ["logits.weight"] = [.. Enumerable.Range(0, 3).SelectMany(o => Enumerable.Range((o * 108) + 81, 9))],
        };
        for (var t = 0; t < net.Parameters.Count; t++)
        {
            var param = net.Parameters[t];
            var zero = expectedZero.GetValueOrDefault(param.Name) ?? [];
            for (var i = 0; i < param.Length; i++)
            {
                Assert.True(zero.Contains(i) ? param.Data[i] == 0 : param.Data[i] == before[t][i], $"{param.Name}[{i}]");
            }
        }

        Assert.Equal(["b.weight", "b.bias", "c.weight", "logits.weight"], mask.Cuts.Select(c => c.Parameter));
    }
}
