using PruneGen.Model;
using PruneGen.Model.Pruning;
using static PruneGen.Tests.Pruning.PruningTestSupport;

namespace PruneGen.Tests.Pruning;

/// <summary>
/// Channel groups computed from graph metadata, checked against memberships worked out by hand from
/// each test network's declaration (see the shape comments in <c>PruningTestNetworks.cs</c>).
/// </summary>
public sealed class ChannelGroupTests
{
    private const string InputReason = "it is the network input, whose channels are fixed by the data";

    private static string[] Bn(string layer) => [$"{layer}.weight@0+0x1", $"{layer}.bias@0+0x1", $"{layer}.running_mean@0+0x1", $"{layer}.running_var@0+0x1"];

    private static ChannelGroup Group(NetworkGraph graph, string name) =>
        ChannelGroups.Analyze(graph).Find(name) ?? throw new Xunit.Sdk.XunitException($"no group '{name}'; groups: {string.Join(", ", ChannelGroups.Analyze(graph).Select(g => g.Name))}");

    private static void AssertGroup(ChannelGroup g, int channels, string[] producers, string[] layers, string[] slices, string? reason = null)
    {
        Assert.Equal(channels, g.Channels);
        Assert.Equal(producers, g.Producers.ToArray());
        Assert.Equal(layers, g.Layers.ToArray());
        Assert.Equal(slices, g.Slices.Select(Describe).ToArray());
        Assert.Equal(reason, g.UnprunableReason);
        Assert.Equal(reason is null, g.Prunable);
    }

    [Fact]
    public void VggLikeGroupsFollowBatchNormPoolingAndFlatten()
    {
        var groups = ChannelGroups.Analyze(PrVgg.Graph);
        Assert.Equal(["input", "conv1", "conv2", "fc1", "logits"], groups.Select(g => g.Name));

        AssertGroup(groups[0], 2, [], [], ["conv1.weight@1+0x1"], InputReason);
        AssertGroup(groups.Find("conv1")!, 6, ["conv1"], ["conv1", "bn1", "relu1"],
            ["conv1.weight@0+0x1", "conv1.bias@0+0x1", .. Bn("bn1"), "conv2.weight@1+0x1"]);

        // Flatten of 8×4×4: each conv2 channel owns 16 consecutive fc1 input columns.
        var conv2 = groups.Find("conv2")!;
        AssertGroup(conv2, 8, ["conv2"], ["conv2", "bn2", "relu2", "maxpool1", "flatten1"],
            ["conv2.weight@0+0x1", "conv2.bias@0+0x1", .. Bn("bn2"), "fc1.weight@1+0x16"]);
        Assert.Equal(["conv2+0x1", "bn2+0x1", "relu2+0x1", "maxpool1+0x1", "flatten1+0x16"], conv2.Outputs.Select(Describe));

        AssertGroup(groups.Find("fc1")!, 10, ["fc1"], ["fc1", "relu3"], ["fc1.weight@0+0x1", "fc1.bias@0+0x1", "logits.weight@1+0x1"]);
        AssertGroup(groups.Find("logits")!, 3, ["logits"], ["logits"], ["logits.weight@0+0x1", "logits.bias@0+0x1"],
            "it is the output of the network ('logits'), whose width is fixed");
    }

    [Fact]
    public void ResidualAdditionsCoupleTheStemEachConv2AndTheProjection()
    {
        var graph = PrResNet.Graph;
        var groups = ChannelGroups.Analyze(graph);
        Assert.Equal(["input", "stem", "b1.conv1", "b2.conv1", "b2.conv2", "b3.conv1", "logits"], groups.Select(g => g.Name));

        // Identity shortcut: b1's residual branch (conv2 → bn2) is added to the stem's output.
        AssertGroup(groups.Find("stem")!, 4, ["stem", "b1.conv2"],
            ["stem", "stem_bn", "relu1", "b1.conv2", "b1.bn2", "b1.add", "b1.relu"],
            ["stem.weight@0+0x1", .. Bn("stem_bn"), "b1.conv1.weight@1+0x1", "b1.conv2.weight@0+0x1", .. Bn("b1.bn2"),
             "b2.conv1.weight@1+0x1", "b2.proj.weight@1+0x1"]);

        // Projection shortcut: b2.conv2 and b2.proj feed b2.add, whose output b3 adds its conv2 to.
        AssertGroup(groups.Find("b2.conv2")!, 6, ["b2.conv2", "b2.proj", "b3.conv2"],
            ["b2.conv2", "b2.bn2", "b2.proj", "b2.proj_bn", "b2.add", "b2.relu", "b3.conv2", "b3.bn2", "b3.add", "b3.relu", "gap1"],
            ["b2.conv2.weight@0+0x1", .. Bn("b2.bn2"), "b2.proj.weight@0+0x1", .. Bn("b2.proj_bn"), "b3.conv1.weight@1+0x1",
             "b3.conv2.weight@0+0x1", .. Bn("b3.bn2"), "logits.weight@1+0x1"]);

        // Block-internal groups stay separate.
        AssertGroup(groups.Find("b1.conv1")!, 4, ["b1.conv1"], ["b1.conv1", "b1.bn1", "b1.relu1"], ["b1.conv1.weight@0+0x1", .. Bn("b1.bn1"), "b1.conv2.weight@1+0x1"]);
        AssertGroup(groups.Find("b2.conv1")!, 6, ["b2.conv1"], ["b2.conv1", "b2.bn1", "b2.relu1"], ["b2.conv1.weight@0+0x1", .. Bn("b2.bn1"), "b2.conv2.weight@1+0x1"]);
        AssertGroup(groups.Find("b3.conv1")!, 6, ["b3.conv1"], ["b3.conv1", "b3.bn1", "b3.relu1"], ["b3.conv1.weight@0+0x1", .. Bn("b3.bn1"), "b3.conv2.weight@1+0x1"]);
    }

    [Fact]
    public void ResidualBlocksAreRemovableOnlyWithAnIdentityShortcutOnAReluInput()
    {
        var graph = PrResNet.Graph;
        var blocks = ResidualBlocks.Analyze(graph);
        Assert.Equal(["b1", "b2", "b3"], blocks.Select(b => b.Name));
        Assert.Equal([true, false, true], blocks.Select(b => b.Removable));
        Assert.Equal(graph.Find("relu1")!.Index, blocks[0].InputLayer);
        Assert.Equal(graph.Find("b1.relu")!.Index, blocks[0].OutputLayer);
        Assert.Equal("b1.bn2", blocks[0].ResidualNorm);
        Assert.Equal("block 'b2' changes the shape (4×8×8 → 6×4×4) through a projection shortcut", blocks[1].UnremovableReason);
    }

    [Fact]
    public void ConcatenationOffsetsEachSourceAndFlattenWidensThem()
    {
        var groups = ChannelGroups.Analyze(PrConcat.Graph);
        Assert.Equal(["input", "a", "b", "c", "logits"], groups.Select(g => g.Name));
        Assert.Equal(["a.weight@1+0x1", "b.weight@1+0x1"], groups[0].Slices.Select(Describe));

        // cat = [a(3), b(4)]; cat2 = [c(5), pool(cat)(7)] → flatten: 9 features per channel.
        var a = groups.Find("a")!;
        AssertGroup(a, 3, ["a"], ["a", "a_bn", "a_relu", "cat", "pool", "cat2", "flatten1"],
            ["a.weight@0+0x1", "a.bias@0+0x1", .. Bn("a_bn"), "c.weight@1+0x1", "logits.weight@1+45x9"]);
        Assert.Equal(["a+0x1", "a_bn+0x1", "a_relu+0x1", "cat+0x1", "pool+0x1", "cat2+5x1", "flatten1+45x9"], a.Outputs.Select(Describe));

        var b = groups.Find("b")!;
        AssertGroup(b, 4, ["b"], ["b", "b_relu", "cat", "pool", "cat2", "flatten1"],
            ["b.weight@0+0x1", "b.bias@0+0x1", "c.weight@1+3x1", "logits.weight@1+72x9"]);
        Assert.Equal(["b+0x1", "b_relu+0x1", "cat+3x1", "pool+3x1", "cat2+8x1", "flatten1+72x9"], b.Outputs.Select(Describe));

        AssertGroup(groups.Find("c")!, 5, ["c"], ["c", "c_relu", "cat2", "flatten1"], ["c.weight@0+0x1", "c.bias@0+0x1", "logits.weight@1+0x9"]);
    }

    [Fact]
    public void DepthwiseFiltersCoupleTheirInputAndOutputChannels()
    {
        var groups = ChannelGroups.Analyze(PrDepthwise.Graph);
        Assert.Equal(["input", "pw1", "pw2", "logits"], groups.Select(g => g.Name));
        AssertGroup(groups.Find("pw1")!, 6, ["pw1"], ["pw1", "bn1", "relu1", "dw", "bn2", "relu2"],
            ["pw1.weight@0+0x1", "pw1.bias@0+0x1", .. Bn("bn1"), "dw.weight@0+0x1", "dw.bias@0+0x1", .. Bn("bn2"), "pw2.weight@1+0x1"]);
    }

    [Fact]
    public void GroupedConvolutionMakesItsInputAndOutputGroupsUnprunable()
    {
        var groups = ChannelGroups.Analyze(PrGrouped.Graph);
        Assert.Equal(["input", "c1", "g", "c3", "logits"], groups.Select(g => g.Name));
        const string reason = "grouped convolution 'g' (2 groups) would need whole groups removed, which PruneGen does not support";
        AssertGroup(groups.Find("c1")!, 4, ["c1"], ["c1", "relu1"], ["c1.weight@0+0x1", "c1.bias@0+0x1"], reason);
        AssertGroup(groups.Find("g")!, 6, ["g"], ["g", "relu2"], ["g.weight@0+0x1", "g.bias@0+0x1", "c3.weight@1+0x1"], reason);
        AssertGroup(groups.Find("c3")!, 5, ["c3"], ["c3", "flatten1"], ["c3.weight@0+0x1", "c3.bias@0+0x1", "logits.weight@1+0x25"]);
        Assert.Equal(InputReason, groups[0].UnprunableReason);
        Assert.False(groups.Find("logits")!.Prunable);
    }

    [Fact]
    public void EveryParameterTensorOfAPrunableNetworkIsCoveredOnBothAxes()
    {
        // Each conv/dense weight has exactly one output slice and one input slice per source; BatchNorm tensors one each.
        foreach (var graph in new[] { PrVgg.Graph, PrResNet.Graph, PrConcat.Graph, PrDepthwise.Graph, PrSigmoid.Graph })
        {
            var slices = ChannelGroups.Analyze(graph).SelectMany(g => g.Slices).ToArray();
            foreach (var p in graph.AllParameters)
            {
                var rows = slices.Where(s => s.Parameter == p.Name && s.Axis == 0).Sum(s => s.Width * (ChannelGroups.Analyze(graph).First(g => g.Slices.Contains(s)).Channels));
                Assert.True(rows == p.Shape[0], $"{graph.Name}: {p.Name} has {p.Shape[0]} rows but the groups' axis-0 slices cover {rows}.");
            }
        }
    }
}
