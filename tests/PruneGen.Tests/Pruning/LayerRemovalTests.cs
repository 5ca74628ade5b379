using PruneGen.Model;
using PruneGen.Model.Pruning;
using PruneGen.Pruning;
using PruneGen.Tests.Compiled;
using PruneGen.Training;
using static PruneGen.Tests.Numerics.Numerics;
using static PruneGen.Tests.Pruning.PruningTestSupport;

namespace PruneGen.Tests.Pruning;

/// <summary>
/// Depth pruning of plain layers (<see cref="RemovableLayers"/>, <see cref="PruningPlan.RemovedLayers"/>): which
/// layers can go and why the others cannot, the builder's graph without them, the channel groups that removal
/// joins, plan checks, the identity mask against the sliced network (reference interpreter) and the
/// build-time compiled class, and layer scores against an independently computed loss.
/// </summary>
public sealed class LayerRemovalTests
{
    private static NetworkOverrides Removing(params string[] layers) => NetworkOverrides.None with { RemovedLayers = new EquatableArray<string>(layers) };

    private static PruningPlan Plan(string[] layers, params (string Group, int Channels, int[] Kept)[] groups) =>
        new(PruningPlan.CurrentVersion, "PrDeep", "test", 1, new EquatableArray<PlanGroup>(groups.Select(g => new PlanGroup(g.Group, g.Channels, new EquatableArray<int>(g.Kept))).ToArray()), EquatableArray<string>.Empty, null)
        {
            RemovedLayers = new EquatableArray<string>(layers),
        };

    [Fact]
    public void RemovableLayers_AreTheShapeKeepingOnesWhoseMaskIsExact_EachOtherWithItsReason()
    {
        var layers = RemovableLayers.Analyze(PrDeep.Graph).ToDictionary(l => l.Name);

        Assert.Equal(["conv1", "conv2", "conv3", "conv4", "conv5", "fc1", "logits"], layers.Keys);
        Assert.Equal(["conv2", "conv3", "fc1"], layers.Values.Where(l => l.Removable).Select(l => l.Name));
        Assert.Equal(["conv2", "bn2", "relu2"], layers["conv2"].Members);
        Assert.Equal(["conv3"], layers["conv3"].Members); // tanh is not part of a removable chain
        Assert.Equal(["fc1", "relu5"], layers["fc1"].Members);
        Assert.Equal("relu1", PrDeep.Graph.Layers[layers["conv2"].InputLayer].Name);
        Assert.Equal("relu2", PrDeep.Graph.Layers[layers["conv2"].OutputLayer].Name);
        Assert.Contains("changes the shape (2×6×6 → 4×6×6)", layers["conv1"].UnremovableReason);
        Assert.Contains("reads 'tanh1', which is not a ReLU output", layers["conv4"].UnremovableReason);
        Assert.Contains("changes the shape", layers["conv5"].UnremovableReason);
        Assert.Contains("changes the shape", layers["logits"].UnremovableReason);
    }

    [Fact]
    public void Builder_SkipsARemovedLayerAndItsChain_AndItsReadersReadItsInput()
    {
        var graph = NetworkBuilder.BuildOrThrow(PrDeep.Declaration, Removing("conv2", "fc1"));

        Assert.DoesNotContain(graph.Layers, l => l.Name is "conv2" or "bn2" or "relu2" or "fc1" or "relu5");
        Assert.Equal("relu1", graph.Layers[graph.Find("maxpool1")!.Inputs[0]].Name);
        Assert.Equal("flatten1", graph.Layers[graph.Find("logits")!.Inputs[0]].Name);
        Assert.Equal([3, 16], graph.Find("logits")!.Parameters[0].Shape);
        Assert.Equal(PrDeep.Graph.TotalMacs - PrDeep.Graph.Find("conv2")!.Macs - PrDeep.Graph.Find("fc1")!.Macs, graph.TotalMacs);

        // Names derived after a removed layer stay what they are in the base network.
        Assert.Equal(["relu1", "relu3", "relu4"], graph.Layers.Where(l => l.Kind == LayerKind.ReLU).Select(l => l.Name));
    }

    [Theory]
    [InlineData("conv9", "PG0027", "Removed layer 'conv9' is not a convolution or dense layer", "the removable ones are conv2, conv3, fc1")]
    [InlineData("conv4", "PG0027", "Layer 'conv4' of network 'PrDeep' cannot be removed", "not a ReLU output", "Prune its channels instead")]
    [InlineData("conv1", "PG0027", "cannot be removed", "changes the shape")]
    public void Builder_RejectsALayerThatCannotBeRemoved(string layer, string id, params string[] keywords)
    {
        var result = NetworkBuilder.Build(PrDeep.Declaration, Removing(layer));

        Assert.Null(result.Graph);
        var error = Assert.Single(result.Errors);
        Assert.Equal(id, error.Id);
        Assert.All(keywords, k => Assert.Contains(k, error.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Builder_RejectsADuplicateAndAChannelOverrideOfARemovedLayer()
    {
        var twice = Assert.Single(NetworkBuilder.Build(PrDeep.Declaration, Removing("conv2", "conv2")).Errors);
        Assert.Equal("PG0015", twice.Id);
        Assert.Contains("listed twice", twice.Message, StringComparison.Ordinal);

        var overrides = new NetworkOverrides(new EquatableArray<ChannelOverride>([new("conv2", 2)]), EquatableArray<string>.Empty) { RemovedLayers = new EquatableArray<string>(["conv2"]) };
        var error = Assert.Single(NetworkBuilder.Build(PrDeep.Declaration, overrides).Errors);
        Assert.Equal("PG0017", error.Id);
        Assert.Contains("'conv2', which is removed from network 'PrDeep'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Groups_WithoutALayer_JoinTheChannelsItReadWithTheChannelsItsReadersRead()
    {
        var groups = ChannelGroups.Analyze(PlanValidator.GroupGraph(PrDeep.Graph, ["conv2"]));

        Assert.Null(groups.Find("conv2"));
        Assert.Equal(
            ["conv1.weight@0+0x1", "conv1.bias@0+0x1", "bn1.weight@0+0x1", "bn1.bias@0+0x1", "bn1.running_mean@0+0x1", "bn1.running_var@0+0x1", "conv3.weight@1+0x1"],
            groups.Find("conv1")!.Slices.Select(Describe));
        Assert.Same(PrDeep.Graph, PlanValidator.GroupGraph(PrDeep.Graph, []));
    }

    [Theory]
    [InlineData(new[] { "conv4" }, "removedLayers[0]", "layer 'conv4' cannot be removed", "not a ReLU output")]
    [InlineData(new[] { "conv2", "conv2" }, "removedLayers[1]", "layer 'conv2' is listed twice")]
    [InlineData(new[] { "bn2" }, "removedLayers[0]", "'bn2' is not a convolution or dense layer", "its removable layers are conv2, conv3, fc1")]
    public void PlanValidation_NamesTheRemovedLayerEntry(string[] layers, string path, params string[] keywords)
    {
        var error = Assert.Single(PlanValidator.Validate(Plan(layers), PrDeep.Declaration));
        Assert.Equal(path, error.Path);
        Assert.All(keywords, k => Assert.Contains(k, error.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void PlanValidation_RejectsAGroupOfARemovedLayer()
    {
        var error = Assert.Single(PlanValidator.Validate(Plan(["conv2"], ("conv2", 4, [0, 1])), PrDeep.Declaration));
        Assert.Equal("groups[0].name", error.Path);
        Assert.Contains("layer 'conv2' is removed by this plan, so its channels are gone; delete this entry", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PlanFile_RoundTripsRemovedLayers_AndWritesThemOnlyWhenThereAreAny()
    {
        var plan = PlanFile.Read(RuntimeCompiledNetworkTests.PlanPath("deep.plan.json"));
        Assert.Equal(["conv2", "fc1"], plan.RemovedLayers);
        Assert.Equal(plan, PlanFile.Parse(PlanFile.ToJson(plan), "round trip"));
        Assert.DoesNotContain("removedLayers", PlanFile.ToJson(plan with { RemovedLayers = EquatableArray<string>.Empty }), StringComparison.Ordinal);

        var bad = Assert.Throws<PlanException>(() => PlanFile.Parse(PlanFile.ToJson(plan).Replace("\"fc1\"", "7", StringComparison.Ordinal), "deep.plan.json"));
        Assert.Contains("removedLayers[1]", bad.Message, StringComparison.Ordinal);
        Assert.Contains("expected a layer name (a string), found", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IdentityMask_EqualsTheSlicedNetwork_AndTheBuildTimeCompiledClass()
    {
        INetwork network = new PrDeep();
        Randomize(network, 7);
        var plan = PlanFile.Read(RuntimeCompiledNetworkTests.PlanPath("deep.plan.json"));
        var input = RandomInput(3 * network.InputSize, 8);
        var before = Forward(network, input, 3);
        var sliced = PlanSlicer.Slice(network, plan);
        var mask = PruningMask.Create(network.Graph, plan);
        mask.Apply(network.Parameters);
        var masked = Forward(network, input, 3);

        Assert.False(mask.ExactInTraining);
        Assert.True(before.Zip(masked).Max(p => Math.Abs(p.First - p.Second)) > 1e-3, "masking changed nothing; the test plan is too weak");
        AssertClose(masked, RunPruned(sliced, input, 3), "identity-masked PrDeep vs the sliced graph (reference interpreter)");

        var compiled = new CompiledDeepPruned();
        Assert.Equal(sliced.Graph, CompiledDeepPruned.Graph);
        Assert.Equal(["conv2", "fc1"], CompiledDeepPruned.Overrides.RemovedLayers);
        sliced.CopyTo(compiled.Parameters);
        AssertClose(Forward(compiled, input, 3), masked, "build-time compiled PrDeep without conv2 and fc1 vs masked base", 1e-5);
    }

    [Fact]
    public void LayerScores_LossIncreaseIsTheLossOfTheNetworkWithoutTheLayer_AndScoringChangesNothing()
    {
        var network = new PrDeep();
        Randomize(network, 11);
        var data = RandomDataset(network, 48, 12);
        var before = Snapshot(network);

        var scores = BlockPruning.ScoreLayers(network, data, batches: 2, batchSize: 24).ToDictionary(s => s.Name);

        Assert.Equal(before, Snapshot(network));
        Assert.Equal(["conv1", "conv2", "conv3", "conv4", "conv5", "fc1", "logits"], scores.Keys);
        Assert.All(scores.Values.Where(s => !s.Removable), s => Assert.True(double.IsNaN(s.LossIncrease)));
        Assert.All(scores.Values.Where(s => s.Removable), s => Assert.InRange(s.Influence, 0, 2));

        // Independent oracle: the cross-entropy of the sliced network without conv2, run by the reference interpreter.
        var baseLoss = Trainer.Evaluate(network, data).Loss;
        var logits = RunPruned(PlanSlicer.Slice(network, Plan(["conv2"])), data.Images, data.Count);
        var loss = 0.0;
        for (var n = 0; n < data.Count; n++)
        {
            var row = logits.AsSpan(n * 3, 3);
            var max = row.ToArray().Max();
            var sum = row.ToArray().Sum(v => Math.Exp(v - max));
            loss += Math.Log(sum) + max - row[data.Labels[n]];
        }

        Assert.Equal((loss / data.Count) - baseLoss, scores["conv2"].LossIncrease, 4);
        var cheapest = scores.Values.Where(s => s.Removable).OrderBy(s => s.LossIncrease).Take(2).Select(s => s.Name).Order();
        Assert.Equal(cheapest, BlockPruning.Select([.. scores.Values], 2, BlockCriterion.LossIncrease));
        var tooMany = Assert.Throws<InvalidOperationException>(() => BlockPruning.Select([.. scores.Values], 4));
        Assert.Contains("only 3 can be removed (conv2, conv3, fc1)", tooMany.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Allocation_WithRemovedLayers_ScoresTheJoinedGroups_AndMeetsItsTarget()
    {
        var network = new PrDeep();
        Randomize(network, 13);
        var plan = Pruner.Plan(network, new PruningOptions { Allocation = new AllocationOptions { Target = PruningTarget.MacsReduction(2) } }, removedLayers: ["conv2"]);

        Assert.Equal(["conv2"], plan.RemovedLayers);
        Assert.Empty(PlanValidator.Validate(plan, PrDeep.Declaration));
        Assert.DoesNotContain(plan.Groups, g => g.Name == "conv2");
        Assert.True(plan.Summary!.Macs * 2 <= plan.Summary.BaseMacs, $"{plan.Summary.Macs} MACs is more than half of {plan.Summary.BaseMacs}");
        Assert.Equal(Allocator.PrunedGraph(PrDeep.Graph, plan).TotalMacs, plan.Summary.Macs);
    }
}
