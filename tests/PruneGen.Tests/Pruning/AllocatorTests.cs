using PruneGen.Examples.Networks;
using PruneGen.Model;
using PruneGen.Model.Pruning;
using PruneGen.Pruning;
using static PruneGen.Tests.Pruning.PruningTestSupport;

namespace PruneGen.Tests.Pruning;

/// <summary>From scores to plans: ratios, rounding, constraints, global ranking, cost targets, iterative schedules.</summary>
public sealed class AllocatorTests
{
    // PrVgg groups: input (unprunable), conv1 (6), conv2 (8), fc1 (10), logits (unprunable).
    private static float[]?[] VggScores() =>
    [
        null,
        [6, 5, 4, 3, 2, 1],
        [1, 2, 3, 4, 5, 6, 7, 8],
        [3, 9, 1, 7, 5, 10, 2, 8, 4, 6],
        null,
    ];

    private static PruningPlan Allocate(INetwork network, float[]?[] scores, AllocationOptions options) => Allocator.Allocate(network, scores, options, "test", 7);

    private static int[] Kept(PruningPlan plan, string group, int channels) => plan.Group(group)?.Kept.ToArray() ?? [.. Enumerable.Range(0, channels)];

    [Fact]
    public void UniformRatioKeepsTheHighestScoringChannelsOfEveryGroup()
    {
        INetwork net = new PrVgg();
        var plan = Allocate(net, VggScores(), new AllocationOptions { Target = PruningTarget.ChannelRatio(0.5) });
        Assert.Equal(["conv1", "conv2", "fc1"], plan.Groups.Select(g => g.Name));
        Assert.Equal([0, 1, 2], Kept(plan, "conv1", 6));
        Assert.Equal([4, 5, 6, 7], Kept(plan, "conv2", 8));
        Assert.Equal([1, 3, 5, 7, 9], Kept(plan, "fc1", 10));
        Assert.Equal(("PrVgg", "test", 7UL, 1), (plan.Network, plan.Criterion, plan.Seed, plan.Version));
        Assert.Empty(PlanValidator.Validate(plan, PrVgg.Graph.Declaration!));

        // The summary is the pruned graph's cost.
        var pruned = Allocator.PrunedGraph(PrVgg.Graph, plan);
        Assert.Equal(new PlanSummary(PrVgg.Graph.TotalMacs, pruned.TotalMacs, PrVgg.Graph.TotalParameters, pruned.TotalParameters), plan.Summary);
        Assert.Equal((3 * 64 * 2 * 9) + (4 * 64 * 3 * 9) + (4 * 16 * 5) + (5 * 3), pruned.TotalMacs); // conv1 3, conv2 4, fc1 5 kept
    }

    [Fact]
    public void KeptCountsRoundUpToTheMultipleButNotPastTheGroup()
    {
        var plan = Allocate(new PrVgg(), VggScores(), new AllocationOptions { Target = PruningTarget.ChannelRatio(0.5), Multiple = 4 });
        Assert.Equal([0, 1, 2, 3], Kept(plan, "conv1", 6)); // 3 → 4
        Assert.Equal(4, Kept(plan, "conv2", 8).Length); // 4 stays
        Assert.Equal(8, Kept(plan, "fc1", 10).Length); // 5 → 8

        var small = Allocate(new PrVgg(), VggScores(), new AllocationOptions { Target = PruningTarget.ChannelRatio(0.2), Multiple = 8 });
        Assert.Null(small.Group("conv1")); // 5 → 8, capped at 6: unpruned
        Assert.Null(small.Group("conv2"));
    }

    [Fact]
    public void KeptCountsRoundUpToTheNextAllowedWidthOfTheirGroup()
    {
        var widths = new Dictionary<string, IReadOnlyList<int>> { ["conv1"] = [2, 5], ["fc1"] = [4, 6] };
        var plan = Allocate(new PrVgg(), VggScores(), new AllocationOptions { Target = PruningTarget.ChannelRatio(0.5), Multiple = 3, Widths = widths });
        Assert.Equal([0, 1, 2, 3, 4], Kept(plan, "conv1", 6)); // 3 → 5, the next listed width
        Assert.Equal(6, Kept(plan, "conv2", 8).Length); // not listed: 4 → 6, the multiple
        Assert.Equal(6, Kept(plan, "fc1", 10).Length); // 5 → 6

        var past = Allocate(new PrVgg(), VggScores(), new AllocationOptions { Target = PruningTarget.ChannelRatio(0.2), Widths = widths });
        Assert.Equal(10, Kept(past, "fc1", 10).Length); // 8 is past the last listed width: the group stays whole
    }

    [Fact]
    public void MinChannelsAndMaxRatioBoundWhatAGroupLoses()
    {
        var min = Allocate(new PrVgg(), VggScores(), new AllocationOptions { Target = PruningTarget.ChannelRatio(0.5), MinChannels = 5 });
        Assert.Equal([5, 5, 5], min.Groups.Select(g => g.Kept.Count));

        // MaxRatio 0.25: at least ⌈6·0.75⌉ = 5, ⌈8·0.75⌉ = 6, ⌈10·0.75⌉ = 8 kept.
        var max = Allocate(new PrVgg(), VggScores(), new AllocationOptions { Target = PruningTarget.ChannelRatio(0.5), MaxRatio = 0.25 });
        Assert.Equal([5, 6, 8], max.Groups.Select(g => g.Kept.Count));
    }

    [Fact]
    public void ProtectedGroupsAndGroupRatiosOverrideTheTarget()
    {
        var plan = Allocate(new PrVgg(), VggScores(), new AllocationOptions
        {
            Target = PruningTarget.ChannelRatio(0.5),
            Protected = ["conv2"],
            GroupRatios = new Dictionary<string, double> { ["fc1"] = 0.8 },
        });
        Assert.Equal(["conv1", "fc1"], plan.Groups.Select(g => g.Name));
        Assert.Equal(3, Kept(plan, "conv1", 6).Length);
        Assert.Equal([1, 5], Kept(plan, "fc1", 10));

        // A producer's name protects its whole group: b1.conv2 protects the stem group.
        INetwork res = new PrResNet();
        var groups = ChannelGroups.Analyze(res.Graph);
        var scores = groups.Select(g => g.Prunable ? Enumerable.Range(0, g.Channels).Select(c => (float)c).ToArray() : null).ToArray();
        var resPlan = Allocator.Allocate(res, scores, new AllocationOptions { Target = PruningTarget.ChannelRatio(0.5), Protected = ["b1.conv2", "b2.proj"] }, "test", 1);
        Assert.Equal(["b1.conv1", "b2.conv1", "b3.conv1"], resPlan.Groups.Select(g => g.Name));
    }

    [Fact]
    public void GlobalRankingPrunesTheLowScoringGroupMore()
    {
        float[]?[] scores = [null, [10, 20, 30, 40, 50, 60], [0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], null];
        var options = new AllocationOptions { Target = PruningTarget.ChannelRatio(0.25), Global = true, Normalization = ScoreNormalization.None };
        var plan = Allocate(new PrVgg(), scores, options);

        // 24 channels, 6 removed: all from conv2, whose scores are lowest.
        Assert.Equal(["conv2"], plan.Groups.Select(g => g.Name));
        Assert.Equal([6, 7], Kept(plan, "conv2", 8));

        var uniform = Allocate(new PrVgg(), scores, options with { Global = false });
        Assert.Equal([4, 6, 8], uniform.Groups.Select(g => g.Kept.Count)); // 6·0.75 = 4.5 rounds to even (4), 8·0.75 = 6, 10·0.75 = 7.5 → 8
    }

    [Fact]
    public void GlobalRatioRemovesExactlyItsShareEvenWhenScoresTie()
    {
        // Ten channels score 0 (e.g. already zeroed); 25 % of 24 is 6: the 6 lowest go (ties: earlier group first, and
        // within a group the higher indices, as ties keep lower indices), not every channel tied with the 6th.
        float[]?[] scores = [null, [0, 0, 0, 0, 5, 6], [0, 0, 0, 0, 0, 0, 7, 8], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], null];
        var plan = Allocate(new PrVgg(), scores, new AllocationOptions { Target = PruningTarget.ChannelRatio(0.25), Global = true, Normalization = ScoreNormalization.None });
        Assert.Equal(18, plan.Groups.Sum(g => g.Kept.Count) + (24 - plan.Groups.Sum(g => g.Channels)));
        Assert.Equal([4, 5], Kept(plan, "conv1", 6));
        Assert.Equal([0, 1, 2, 3, 6, 7], Kept(plan, "conv2", 8));
        Assert.Null(plan.Group("fc1"));
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    public void CostTargetsAreMetAndApproached(bool macs, bool global)
    {
        INetwork net = new VggNet();
        Numerics.Numerics.Randomize(net, 3);
        var scores = Importance.L1.Score(new ImportanceContext(net));
        var target = macs ? PruningTarget.MacsFraction(0.5) : PruningTarget.ParametersFraction(0.4);
        var plan = Allocate(net, scores, new AllocationOptions { Target = target, Global = global });
        var graph = Allocator.PrunedGraph(VggNet.Graph, plan);
        var (cost, baseCost, fraction) = macs ? (graph.TotalMacs, VggNet.Graph.TotalMacs, 0.5) : (graph.TotalParameters, VggNet.Graph.TotalParameters, 0.4);
        Assert.True(cost <= fraction * baseCost, $"cost {cost} exceeds the budget {fraction * baseCost}");
        Assert.True(cost >= (fraction - 0.03) * baseCost, $"cost {cost} is {(double)cost / baseCost:P2} of the base; the target is {fraction:P0}");
        Assert.Equal(cost, macs ? plan.Summary!.Macs : plan.Summary!.Parameters);
    }

    [Fact]
    public void AGroupTheCriterionDoesNotScoreKeepsThePreviousPlansChannels()
    {
        // Step 1 pruned fc1 (say by L1); step 2 uses a criterion that does not score fc1 (BatchNorm scale: no BatchNorm
        // after fc1). fc1 must keep exactly what step 1 kept, not fall back to its first channels (or fail).
        INetwork net = new PrVgg();
        var previous = Plan(net, ("conv1", [0, 1, 2, 4]), ("fc1", [1, 3, 5, 7, 9]));
        float[]?[] scores = [null, [6, 5, 4, 3, 2, 1], [1, 2, 3, 4, 5, 6, 7, 8], null, null];
        var plan = Allocator.Allocate(net, scores, new AllocationOptions { Target = PruningTarget.ChannelRatio(0.5) }, "bn", 1, previous: previous);
        Assert.Equal([1, 3, 5, 7, 9], Kept(plan, "fc1", 10));
        Assert.Equal([0, 1, 2], Kept(plan, "conv1", 6));
        Assert.Equal([4, 5, 6, 7], Kept(plan, "conv2", 8));
    }

    [Fact]
    public void AnUnreachableTargetSaysWhatTheConstraintsAllow()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Allocate(new PrVgg(), VggScores(), new AllocationOptions { Target = PruningTarget.MacsFraction(0.01), MaxRatio = 0.5 }));
        Assert.StartsWith("The target (1.0 % of MACs) cannot be reached: removing as much as the constraints allow (max ratio 50 % per group, at least 1 channels, multiples of 1, protected groups kept) still leaves ", e.Message);
        Assert.EndsWith("Raise MaxRatio, unprotect groups or remove residual blocks.", e.Message);
    }

    /// <summary>A criterion whose preferences change at every call: without the schedule's memory it would re-add removed channels.</summary>
    private sealed class ShiftingImportance : Importance
    {
        private int _calls;

        public override string Name => "shifting";

        public override float[]?[] Score(ImportanceContext context)
        {
            var random = new Random(++_calls);
            return [.. context.Groups.Select(g => g.Prunable ? Enumerable.Range(0, g.Channels).Select(_ => (float)random.NextDouble()).ToArray() : null)];
        }
    }

    [Fact]
    public void IterativePruningReachesItsMacTargetAndNeverReaddsAChannel()
    {
        INetwork net = new PrVgg();
        Numerics.Numerics.Randomize(net, 4);
        var plans = new List<PruningPlan>();
        var options = new PruningOptions { Criterion = new ShiftingImportance(), Allocation = new AllocationOptions { Target = PruningTarget.MacsFraction(0.5) } };
        var final = Pruner.PruneIteratively(net, options, 3, (step, mask) =>
        {
            Assert.Equal(plans.Count + 1, step);
            plans.Add(mask.Plan);

            // The network is left masked with the step's plan.
            var probe = (float[])net.Parameters["conv2.weight"].Data.Clone();
            mask.Apply(net.Parameters);
            Assert.Equal(probe, net.Parameters["conv2.weight"].Data);
        });

        Assert.Equal(3, plans.Count);
        Assert.Same(plans[^1], final);
        var baseMacs = PrVgg.Graph.TotalMacs;
        for (var s = 0; s < 3; s++)
        {
            var macs = Allocator.PrunedGraph(PrVgg.Graph, plans[s]).TotalMacs;
            var budget = (1 - (0.5 * (s + 1) / 3)) * baseMacs;
            Assert.True(macs <= budget, $"step {s + 1}: {macs} MACs > budget {budget}");
            if (s > 0)
            {
                foreach (var g in ChannelGroups.Analyze(PrVgg.Graph).Where(g => g.Prunable))
                {
                    var before = Kept(plans[s - 1], g.Name, g.Channels);
                    var after = Kept(plans[s], g.Name, g.Channels);
                    Assert.True(after.All(before.Contains), $"step {s + 1}: group {g.Name} re-adds channels: before [{string.Join(", ", before)}], after [{string.Join(", ", after)}]");
                }
            }
        }

        Assert.True(Allocator.PrunedGraph(PrVgg.Graph, final).TotalMacs >= 0.35 * baseMacs, "the final plan is not far past its target");
    }

    [Fact]
    public void APrunedNetworkIsRefusedAsABase_WithTheWayOut()
    {
        // Plans name an unpruned network's channel indices and costs; pruning a pruned one would silently mix the two.
        INetwork pruned = new Compiled.CompiledVggPruned();
        var plan = Assert.Throws<ArgumentException>(() => Pruner.Plan(pruned, new PruningOptions { Allocation = new AllocationOptions { Target = PruningTarget.MacsReduction(2) } }));
        Assert.Contains("'CompiledVggPruned' is itself a pruned network (the base declaration 'CompiledVgg'", plan.Message, StringComparison.Ordinal);
        Assert.Contains("Prune the base network instead", plan.Message, StringComparison.Ordinal);

        var slice = Assert.Throws<PlanException>(() => PlanSlicer.Slice(pruned, Plan(new Compiled.CompiledVgg())));
        Assert.Contains("is itself a pruned network", slice.Message, StringComparison.Ordinal);
    }
}
