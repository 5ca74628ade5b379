using PruneGen.Model;

namespace PruneGen.Tests.Model;

// 3×8×8 → conv 8@3 pad 1 → BN → ReLU → maxpool 2 (8×4×4) → conv 16@3 pad 1 → BN → ReLU → maxpool 2 (16×2×2)
// → depthwise 3 pad 1 (16×2×2) → flatten 64 → dense 32 → ReLU → dense 10.

/// <summary>VGG-like: convolutions, BatchNorm, pools, a depthwise convolution, flatten into dense layers.</summary>
[Network(3, 8, 8)]
[Conv2D("c1", 8, 3, Padding = 1), BatchNorm("bn1"), ReLU, MaxPool2D(2)]
[Conv2D("c2", 16, 3, Padding = 1), BatchNorm("bn2"), ReLU, MaxPool2D(2)]
[DepthwiseConv2D("dw", 3, Padding = 1)]
[Flatten]
[Dense("fc1", 32), ReLU]
[Dense("fc2", 10)]
public partial class OverrideVggNet;

// 3×8×8 → stem 8@3 → b1 (8, identity) → b2 (16, stride 2, projection) → b3 (16, identity) → GAP → dense 4.

/// <summary>Residual: identity and projection shortcuts.</summary>
[Network(3, 8, 8)]
[Conv2D("stem", 8, 3, Padding = 1, Bias = false), BatchNorm("stem_bn"), ReLU]
[ResidualBlock("b1", 8)]
[ResidualBlock("b2", 16, Stride = 2)]
[ResidualBlock("b3", 16)]
[GlobalAvgPool]
[Dense("fc", 4)]
public partial class OverrideResNet;

/// <summary>A block whose projection exists only because it widens 4 → 8 channels (stride 1).</summary>
[Network(4, 4, 4)]
[ResidualBlock("r", 8)]
[GlobalAvgPool]
[Dense("fc", 2)]
public partial class OverrideProjectionNet;

/// <summary>Branches and joins: a concat of two convolutions, and a layer that reads a block's output by name.</summary>
[Network(2, 4, 4)]
[Conv2D("a", 6, 1)]
[Conv2D("b", 4, 1, Input = "input")]
[Concat("cat", "a", "b")]
[Conv2D("c", 8, 1)]
[ResidualBlock("blk", 8)]
[Conv2D("side", 3, 1, Input = "c")]
[Conv2D("main", 3, 1, Input = "blk.relu")]
[Add("sum", "main", "side")]
public partial class OverrideJoinNet;

/// <summary><see cref="NetworkBuilder.Build(NetworkDeclaration, NetworkOverrides?)"/>: pruned shapes, parameter shapes, MACs, removed blocks and every override error.</summary>
public class NetworkOverridesTests
{
    private static NetworkOverrides Overrides(string[]? removed = null, params (string Layer, int Channels)[] channels) =>
        new(new EquatableArray<ChannelOverride>(channels.Select(c => new ChannelOverride(c.Layer, c.Channels)).ToArray()),
            new EquatableArray<string>(removed ?? Array.Empty<string>()));

    private static NetworkGraph Build(NetworkDeclaration declaration, NetworkOverrides overrides)
    {
        var result = NetworkBuilder.Build(declaration, overrides);
        Assert.True(result.Graph is not null, string.Join(Environment.NewLine, result.Errors.Select(e => $"{e.Id}: {e.Message}")));
        return result.Graph!;
    }

    private static void AssertLayer(NetworkGraph g, string name, string shape, long macs, params string[] parameterShapes)
    {
        var node = g.Find(name);
        Assert.True(node is not null, $"no layer '{name}'");
        Assert.Equal(shape, node!.OutputShape.ToString());
        Assert.Equal(macs, node.Macs);
        Assert.Equal(parameterShapes, node.Parameters.Select(p => string.Join("×", p.Shape)).ToArray());
    }

    private static GraphError SingleError(NetworkDeclaration declaration, NetworkOverrides overrides)
    {
        var result = NetworkBuilder.Build(declaration, overrides);
        Assert.Null(result.Graph);
        var error = Assert.Single(result.Errors);
        Assert.Equal(-1, error.DeclarationIndex);
        return error;
    }

    [Fact]
    public void NoOverrides_GiveTheBaseGraph()
    {
        var declaration = OverrideResNet.Declaration;

        Assert.Equal(NetworkBuilder.Build(declaration), NetworkBuilder.Build(declaration, null));
        Assert.Equal(NetworkBuilder.Build(declaration), NetworkBuilder.Build(declaration, NetworkOverrides.None));
        Assert.All(OverrideResNet.Graph.Layers, l => Assert.Equal(l.OutputShape.Channels, l.BaseChannels));
        Assert.DoesNotContain(OverrideResNet.Graph.Layers, l => l.IsPruned);
    }

    [Fact]
    public void VggLike_ConvAndDenseWidths_ReshapeEverythingDownstream()
    {
        var g = Build(OverrideVggNet.Declaration, Overrides(null, ("c1", 5), ("c2", 12), ("fc1", 20)));

        // MACs = output elements × (input channels / groups) × k² (convolution), inputs × units (dense).
        AssertLayer(g, "c1", "5×8×8", 5 * 64 * 3 * 9, "5×3×3×3", "5");
        AssertLayer(g, "bn1", "5×8×8", 0, "5", "5", "5", "5");
        AssertLayer(g, "maxpool1", "5×4×4", 0);
        AssertLayer(g, "c2", "12×4×4", 12 * 16 * 5 * 9, "12×5×3×3", "12");
        AssertLayer(g, "bn2", "12×4×4", 0, "12", "12", "12", "12");
        AssertLayer(g, "maxpool2", "12×2×2", 0);
        AssertLayer(g, "dw", "12×2×2", 12 * 4 * 1 * 9, "12×1×3×3", "12"); // groups follow the input: 12
        Assert.Equal(12, g.Find("dw")!.Groups);
        AssertLayer(g, "flatten1", "48", 0);
        Assert.Equal(64, g.Find("flatten1")!.BaseChannels);
        AssertLayer(g, "fc1", "20", 48 * 20, "20×48", "20");
        AssertLayer(g, "fc2", "10", 20 * 10, "10×20", "10");

        Assert.Equal(8640 + 8640 + 432 + 960 + 200, g.TotalMacs);
        Assert.Equal(35200, OverrideVggNet.TotalMacs);
        Assert.Equal(140 + 10 + 552 + 24 + 120 + 980 + 210, g.TotalParameters);
        Assert.Equal(OverrideVggNet.Graph.Layers.Select(l => l.Name), g.Layers.Select(l => l.Name));
    }

    [Fact]
    public void BaseChannels_AreTheUnprunedWidths()
    {
        var g = Build(OverrideVggNet.Declaration, Overrides(null, ("c1", 5), ("fc1", 20)));

        Assert.Equal((5, 8, true), (g.Find("c1")!.OutputShape.Channels, g.Find("c1")!.BaseChannels, g.Find("c1")!.IsPruned));
        Assert.Equal((5, 8, true), (g.Find("bn1")!.OutputShape.Channels, g.Find("bn1")!.BaseChannels, g.Find("bn1")!.IsPruned));
        Assert.Equal((20, 32), (g.Find("fc1")!.OutputShape.Channels, g.Find("fc1")!.BaseChannels));
        Assert.Equal((16, 16, false), (g.Find("c2")!.OutputShape.Channels, g.Find("c2")!.BaseChannels, g.Find("c2")!.IsPruned));

        Assert.Equal((10, 10, false), (g.Find("fc2")!.OutputShape.Channels, g.Find("fc2")!.BaseChannels, g.Find("fc2")!.IsPruned));
    }

    [Fact]
    public void Concat_AddsUpThePrunedBranchWidths()
    {
        var g = Build(OverrideJoinNet.Declaration, Overrides(null, ("a", 2)));

        AssertLayer(g, "a", "2×4×4", 2 * 16 * 2, "2×2×1×1", "2");
        AssertLayer(g, "cat", "6×4×4", 0);
        AssertLayer(g, "c", "8×4×4", 8 * 16 * 6, "8×6×1×1", "8");
    }

    [Fact]
    public void Residual_PrunedBlocksKeepTheirShortcuts()
    {
        var g = Build(OverrideResNet.Declaration, Overrides(null,
            ("stem", 6), ("b1.conv1", 3), ("b1.conv2", 6),
            ("b2.conv1", 5), ("b2.conv2", 10), ("b2.proj", 10),
            ("b3.conv1", 7), ("b3.conv2", 10)));

        AssertLayer(g, "stem", "6×8×8", 6 * 64 * 27, "6×3×3×3");
        AssertLayer(g, "stem_bn", "6×8×8", 0, "6", "6", "6", "6");
        AssertLayer(g, "b1.conv1", "3×8×8", 3 * 64 * 6 * 9, "3×6×3×3");
        AssertLayer(g, "b1.conv2", "6×8×8", 6 * 64 * 3 * 9, "6×3×3×3");
        Assert.Null(g.Find("b1.proj"));
        AssertLayer(g, "b1.add", "6×8×8", 0);
        AssertLayer(g, "b2.conv1", "5×4×4", 5 * 16 * 6 * 9, "5×6×3×3");
        AssertLayer(g, "b2.conv2", "10×4×4", 10 * 16 * 5 * 9, "10×5×3×3");
        AssertLayer(g, "b2.proj", "10×4×4", 10 * 16 * 6, "10×6×1×1");
        AssertLayer(g, "b2.proj_bn", "10×4×4", 0, "10", "10", "10", "10");
        AssertLayer(g, "b3.conv1", "7×4×4", 7 * 16 * 10 * 9, "7×10×3×3");
        AssertLayer(g, "b3.conv2", "10×4×4", 10 * 16 * 7 * 9, "10×7×3×3");
        Assert.Null(g.Find("b3.proj"));
        AssertLayer(g, "gap1", "10", 0);
        AssertLayer(g, "fc", "4", 40, "4×10", "4");
        Assert.Equal((10368 * 3) + 4320 + 7200 + 960 + (10080 * 2) + 40, g.TotalMacs);
    }

    [Fact]
    public void Residual_AProjectionIsKept_WhenPrunedShapesWouldNotNeedIt()
    {
        // r widens 4 → 8, so it has a projection; pruned to 4 it would not need one, but keeps it.
        var g = Build(OverrideProjectionNet.Declaration, Overrides(null, ("r.conv1", 2), ("r.conv2", 4), ("r.proj", 4)));

        AssertLayer(g, "r.conv2", "4×4×4", 4 * 16 * 2 * 9, "4×2×3×3");
        AssertLayer(g, "r.proj", "4×4×4", 4 * 16 * 4, "4×4×1×1");
        Assert.Equal(new[] { g.Find("r.bn2")!.Index, g.Find("r.proj_bn")!.Index }, g.Find("r.add")!.Inputs.ToArray());
    }

    [Fact]
    public void Residual_AProjectionIsNotAdded_WhenPrunedShapesWouldNeedOne()
    {
        // b1 has an identity shortcut: narrowing its branch but not its input cannot be fixed with a new projection.
        var result = NetworkBuilder.Build(OverrideResNet.Declaration, Overrides(null, ("b1.conv2", 6)));

        Assert.Null(result.Graph);
        var error = Assert.Single(result.Errors);
        Assert.Equal(DiagnosticIds.AddShapeMismatch, error.Id);
        Assert.Contains("'b1.add'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RemovedBlock_ItsReadersReadItsInput()
    {
        var g = Build(OverrideResNet.Declaration, Overrides(new[] { "b1", "b3" }));

        Assert.DoesNotContain(g.Layers, l => l.Block is "b1" or "b3");
        Assert.Equal(new[] { g.Find("relu1")!.Index }, g.Find("b2.conv1")!.Inputs.ToArray());
        Assert.Equal(new[] { g.Find("relu1")!.Index }, g.Find("b2.proj")!.Inputs.ToArray());
        Assert.Equal(new[] { g.Find("b2.relu")!.Index }, g.Find("gap1")!.Inputs.ToArray());
        Assert.Equal(OverrideResNet.TotalMacs - (2 * OverrideResNet.Layers.B1Conv1.Macs) - (2 * OverrideResNet.Layers.B3Conv1.Macs), g.TotalMacs);
        Assert.Equal(Enumerable.Range(0, g.Layers.Count), g.Layers.Select(l => l.Index));
    }

    [Fact]
    public void RemovedBlock_ALayerNamingItsOutputReadsItsInput()
    {
        var g = Build(OverrideJoinNet.Declaration, Overrides(new[] { "blk" }));

        Assert.Null(g.Find("blk.relu"));
        Assert.Equal(new[] { g.Find("c")!.Index }, g.Find("main")!.Inputs.ToArray());
    }

    [Fact]
    public void RemovedBlock_AndChannelOverridesTogether()
    {
        var g = Build(OverrideResNet.Declaration, Overrides(new[] { "b3" }, ("b2.conv2", 12), ("b2.proj", 12)));

        AssertLayer(g, "gap1", "12", 0);
        AssertLayer(g, "fc", "4", 48, "4×12", "4");
    }

    [Fact]
    public void BuildOrThrow_ReturnsThePrunedGraph_OrThrowsWithEveryError()
    {
        Assert.Equal(5, NetworkBuilder.BuildOrThrow(OverrideVggNet.Declaration, Overrides(null, ("c1", 5))).Find("c1")!.OutputShape.Channels);

        var e = Assert.Throws<InvalidOperationException>(() => NetworkBuilder.BuildOrThrow(OverrideVggNet.Declaration, Overrides(null, ("nope", 5), ("c1", 0))));

        Assert.Contains("'OverrideVggNet' with these overrides is invalid", e.Message, StringComparison.Ordinal);
        Assert.Contains(DiagnosticIds.OverrideUnknownLayer, e.Message, StringComparison.Ordinal);
        Assert.Contains(DiagnosticIds.OverrideChannelsOutOfRange, e.Message, StringComparison.Ordinal);
    }

    // ---- Errors: each names the layer or block, the network and the fix ----

    [Fact]
    public void PG0017_OverrideOfAnUnknownLayer()
    {
        var e = SingleError(OverrideVggNet.Declaration, Overrides(null, ("conv9", 4)));

        Assert.Equal("PG0017", e.Id);
        Assert.Equal("Channel override names layer 'conv9', which is not a layer of network 'OverrideVggNet'; use an expanded layer name from its graph (e.g. a residual block's '{block}.conv1') or drop the override.", e.Message);
    }

    [Fact]
    public void PG0017_OverrideOfALayerInARemovedBlock()
    {
        var e = SingleError(OverrideResNet.Declaration, Overrides(new[] { "b3" }, ("b3.conv1", 4)));

        Assert.Equal("PG0017", e.Id);
        Assert.Equal("Channel override names layer 'b3.conv1', which belongs to residual block 'b3', removed from network 'OverrideResNet'; drop the override or keep the block.", e.Message);
    }

    [Fact]
    public void PG0018_OverrideOfALayerThatFollowsItsInput()
    {
        var e = SingleError(OverrideVggNet.Declaration, Overrides(null, ("bn1", 4)));

        Assert.Equal("PG0018", e.Id);
        Assert.Equal("Channel override names BatchNorm layer 'bn1' of network 'OverrideVggNet'; only Conv2D and Dense layers set their own width (the others follow their input), so override the convolution or dense layer that produces its input instead.", e.Message);
    }

    [Fact]
    public void PG0018_OverrideOfADepthwiseConvolution()
    {
        var e = SingleError(OverrideVggNet.Declaration, Overrides(null, ("dw", 8)));

        Assert.Equal("PG0018", e.Id);
        Assert.Equal("Channel override names depthwise convolution 'dw' of network 'OverrideVggNet'; its channels follow its input's, so override the layer that produces its input instead.", e.Message);
    }

    [Theory]
    [InlineData("c1", 0, "Channel override gives Conv2D layer 'c1' of network 'OverrideVggNet' 0 output channels; it declares 8, so keep between 1 and 8.")]
    [InlineData("c1", 9, "Channel override gives Conv2D layer 'c1' of network 'OverrideVggNet' 9 output channels; it declares 8, so keep between 1 and 8.")]
    [InlineData("fc1", 33, "Channel override gives Dense layer 'fc1' of network 'OverrideVggNet' 33 units; it declares 32, so keep between 1 and 32.")]
    public void PG0019_OverrideOutOfRange(string layer, int channels, string message)
    {
        var e = SingleError(OverrideVggNet.Declaration, Overrides(null, (layer, channels)));

        Assert.Equal("PG0019", e.Id);
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void PG0020_RemovedBlockUnknown()
    {
        var e = SingleError(OverrideResNet.Declaration, Overrides(new[] { "b9" }));

        Assert.Equal("PG0020", e.Id);
        Assert.Equal("Removed block 'b9' is not a residual block of network 'OverrideResNet' (its blocks are b1, b2, b3); name one of them or drop it from the removed blocks.", e.Message);
    }

    [Fact]
    public void PG0020_RemovedBlockInANetworkWithoutBlocks()
    {
        var e = SingleError(OverrideVggNet.Declaration, Overrides(new[] { "c1" }));

        Assert.Equal("PG0020", e.Id);
        Assert.Equal("Network 'OverrideVggNet' has no residual blocks, so block 'c1' cannot be removed; remove it from the removed blocks.", e.Message);
    }

    [Fact]
    public void PG0021_RemovedBlockWithAProjection()
    {
        var e = SingleError(OverrideResNet.Declaration, Overrides(new[] { "b2" }));

        Assert.Equal("PG0021", e.Id);
        Assert.Equal("Residual block 'b2' of network 'OverrideResNet' has a projection shortcut (it changes the stride or the channels), so removing it would change the shape its successors read; keep the block (prune its channels instead) or remove only blocks with an identity shortcut.", e.Message);
    }

    [Fact]
    public void PG0015_AnOverrideOrARemovedBlockListedTwice()
    {
        var twice = SingleError(OverrideVggNet.Declaration, Overrides(null, ("c1", 4), ("c1", 5)));
        var removedTwice = SingleError(OverrideResNet.Declaration, Overrides(new[] { "b1", "b1" }));

        Assert.Equal(("PG0015", "Layer 'c1' has more than one channel override in network 'OverrideVggNet'; give it one."), (twice.Id, twice.Message));
        Assert.Equal(("PG0015", "Residual block 'b1' is listed twice in the removed blocks of network 'OverrideResNet'; list it once."), (removedTwice.Id, removedTwice.Message));
    }

    [Fact]
    public void PG0002_RemovingEveryLayer()
    {
        var onlyBlock = new NetworkDeclaration("OnlyBlock", 4, 4, 4, new EquatableArray<LayerDeclaration>(new[]
        {
            new LayerDeclaration("r", LayerKind.ResidualBlock, EquatableArray<string>.Empty, Size: 4, Kernel: 3, Stride: 1, Padding: 1),
        }));

        var e = SingleError(onlyBlock, Overrides(new[] { "r" }));

        Assert.Equal(("PG0002", "Network 'OnlyBlock' has no layers left once its removed blocks and layers are skipped; keep at least one layer."), (e.Id, e.Message));
    }

    [Fact]
    public void ADeclarationError_IsReportedAsIs_WithoutCheckingTheOverrides()
    {
        var broken = OverrideVggNet.Declaration with { InputChannels = 0 };

        var result = NetworkBuilder.Build(broken, Overrides(null, ("nope", 1)));

        Assert.Equal(new[] { DiagnosticIds.NonPositiveSize }, result.Errors.Select(e => e.Id).ToArray());
    }
}
