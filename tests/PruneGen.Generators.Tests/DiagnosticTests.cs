using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using PruneGen.Generators.Diagnostics;
using PruneGen.Generators.Model;
using PruneGen.Model;

namespace PruneGen.Generators.Tests;

/// <summary>
/// Every PG rule the generator can report: the ID, the exact location (the offending attribute, or the
/// class identifier for class-level rules), a message that names the layer and says how to fix it,
/// and no compiler errors besides it (invalid declarations still emit the public surface).
/// Sources use <c>[|...|]</c> markers for the expected location, see <see cref="Markup"/>.
/// </summary>
public class DiagnosticTests
{
    private const string Prologue = "using PruneGen;\n\nnamespace App;\n\n";

    // ---- PG0001 / PG0016: the class itself ----

    [Fact]
    public void PG0001_NetworkClassNotPartial()
    {
        var run = AssertDiagnostics(
            """
            [Network(4)]
            [Dense("fc1", 2)]
            public class [|Net|];
            """,
            ("PG0001", new[] { "'Net'", "must be declared 'partial'", "write 'partial class Net'" }));
        Assert.Empty(run.GeneratedSources);
    }

    [Theory]
    [InlineData(
        """
        public partial class Outer
        {
            [Network(4)]
            [Dense("fc1", 2)]
            public partial class [|Net|];
        }
        """,
        "'Net'", "nested in 'Outer'", "move it out of 'Outer'")]
    [InlineData(
        """
        [Network(4)]
        [Dense("fc1", 2)]
        public partial class [|Net|]<T>;
        """,
        "'Net'", "generic", "remove its type parameters")]
    [InlineData(
        """
        [Network(4)]
        [Dense("fc1", 2)]
        public static partial class [|Net|];
        """,
        "'Net'", "static", "remove 'static'")]
    [InlineData(
        """
        [Network(4)]
        [Dense("fc1", 2)]
        public partial record [|Net|];
        """,
        "'Net'", "record", "'partial class Net'")]
    public void PG0016_NetworkClassThatCannotHoldANetwork(string markup, params string[] keywords)
    {
        var run = AssertDiagnostics(markup, ("PG0016", keywords));
        Assert.Empty(run.GeneratedSources);
    }

    // ---- PG0002 – PG0015: the declaration, reported at the offending attribute ----

    [Fact]
    public void PG0002_EmptyNetwork_AtTheNetworkAttribute() =>
        AssertLayerError("PG0002", "[[|Network(4)|]]", "'Net'", "declares no layers", "Add layer attributes");

    [Theory]
    [InlineData("""[Dense("fc", 4)][[|Dense("fc", 2)|]]""", "'fc'", "already used", "unique name")]
    [InlineData("""[Dense("fc", 4), ReLU(Name = "act")][[|Sigmoid(Name = "act")|]]""", "'act'", "already used", "unique name")]
    [InlineData("""[[|Dense("input", 4)|]]""", "'input'", "reserved for the network input", "rename the layer")]
    public void PG0003_DuplicateOrReservedName(string layers, params string[] keywords) =>
        AssertLayerError("PG0003", "[Network(4)]\n" + layers, keywords);

    [Theory]
    [InlineData("""[Dense("fc1", 4)][[|Dense("fc2", 2, Input = "nope")|]]""", "'fc2'", "'nope'", "Name an earlier layer")]
    [InlineData("""[[|Dense("a", 4, Input = "b")|]][Dense("b", 4)]""", "'a'", "reads 'b'", "not a layer declared before it", "Name an earlier layer")]
    [InlineData("""[Dense("a", 4)][[|Add("sum", "later")|]][Dense("later", 4)]""", "'sum'", "reads 'later'", "Name an earlier layer")]
    public void PG0004_UnknownOrLaterLayer(string layers, params string[] keywords) =>
        AssertLayerError("PG0004", "[Network(4)]\n" + layers, keywords);

    [Fact]
    public void PG0004_ResidualBlockReadsAnUnknownLayer() =>
        AssertLayerError("PG0004", """
            [Network(1, 8, 8)]
            [[|ResidualBlock("block", 4, Input = "stem")|]]
            """, "'block'", "reads 'stem'", "Name a layer declared earlier");

    [Theory]
    [InlineData("[Network(4)]", """[[|Dense("fc", 0)|]]""", "'fc'", "0 units", "at least 1")]
    [InlineData("[Network(4)]", """[[|Dense("fc", -3)|]]""", "'fc'", "-3 units", "at least 1")]
    [InlineData("[Network(1, 8, 8)]", """[[|Conv2D("conv", 0, 3)|]]""", "'conv'", "0 output channels", "at least 1")]
    [InlineData("[Network(1, 8, 8)]", """[[|Conv2D("conv", 4, 0)|]]""", "'conv'", "kernel 0", "must be at least 1")]
    [InlineData("[Network(1, 8, 8)]", """[[|Conv2D("conv", 4, 3, Stride = 0)|]]""", "'conv'", "stride 0", "at least 1")]
    [InlineData("[Network(1, 8, 8)]", """[[|Conv2D("conv", 4, 3, Stride = -2)|]]""", "'conv'", "stride -2", "at least 1")]
    [InlineData("[Network(1, 8, 8)]", """[[|Conv2D("conv", 4, 3, Padding = -1)|]]""", "'conv'", "padding -1", "padding at least 0")]
    [InlineData("[Network(1, 8, 8)]", """[[|Conv2D("conv", 4, 3, Groups = 0)|]]""", "'conv'", "0 groups", "at least 1")]
    [InlineData("[Network(2, 8, 8)]", """[[|DepthwiseConv2D("dw", 3, Multiplier = 0)|]]""", "'dw'", "multiplier 0", "at least 1")]
    [InlineData("[Network(2, 8, 8)]", """[[|DepthwiseConv2D("dw", 3, Stride = 0)|]]""", "'dw'", "stride 0", "at least 1")]
    [InlineData("[Network(1, 8, 8)]", """[[|ResidualBlock("block", 0)|]]""", "'block'", "channels 0", "at least 1")]
    [InlineData("[Network(1, 8, 8)]", """[[|ResidualBlock("block", 8, Stride = 0)|]]""", "'block'", "stride 0", "at least 1")]
    [InlineData("[Network(1, 8, 8)]", """[[|MaxPool2D(0)|]]""", "'maxpool1'", "window 0", "at least 1")]
    [InlineData("[Network(1, 8, 8)]", """[[|AvgPool2D(2, Padding = -1)|]]""", "'avgpool1'", "padding -1", "at least 0")]
    [InlineData("[[|Network(0)|]]", """[Dense("fc", 2)]""", "'Net'", "input shape 0×1×1", "at least 1")]
    [InlineData("[[|Network(3, 0, 8)|]]", """[Conv2D("conv", 4, 3)]""", "'Net'", "input shape 3×0×8", "at least 1")]
    public void PG0005_NonPositiveSize(string network, string layers, params string[] keywords) =>
        AssertLayerError("PG0005", network + "\n" + layers, keywords);

    [Theory]
    [InlineData("[Network(1, 4, 4)]", """[[|Conv2D("conv", 2, 7)|]]""", "'conv'", "7×7", "larger than its padded input 4×4", "at most 4")]
    [InlineData("[Network(1, 4, 4)]", """[[|Conv2D("conv", 2, 7, Padding = 1)|]]""", "'conv'", "padded input 6×6", "at most 6 or more padding")]
    [InlineData("[Network(1, 3, 3)]", """[[|MaxPool2D(4)|]]""", "'maxpool1'", "window 4×4", "at most 3")]
    public void PG0006_KernelLargerThanPaddedInput(string network, string layers, params string[] keywords) =>
        AssertLayerError("PG0006", network + "\n" + layers, keywords);

    [Theory]
    [InlineData("[Network(1, 4, 4)]", "[MaxPool2D(2), MaxPool2D(2)]\n[[|MaxPool2D(2)|]]", "'maxpool3'", "shrunk to 1×1 by 'maxpool2'", "Remove a downsampling layer")]
    [InlineData("[Network(1, 8, 8)]", """[Conv2D("down", 4, 3, Stride = 3)][[|Conv2D("conv", 4, 3)|]]""", "'conv'", "shrunk to 2×2 by 'down'", "lower a stride, or add padding")]
    public void PG0007_SpatialSizeReachesZero(string network, string layers, params string[] keywords) =>
        AssertLayerError("PG0007", network + "\n" + layers, keywords);

    [Theory]
    [InlineData("""[Conv2D("a", 4, 3, Padding = 1), Conv2D("b", 8, 3, Padding = 1)][[|Add("sum", "a")|]]""", "'sum'", "'b' (8×8×8)", "'a' (4×8×8)", "1×1 projection")]
    [InlineData("""[Conv2D("a", 4, 3, Padding = 1), Conv2D("b", 4, 3, Padding = 1, Stride = 2)][[|Add("sum", "b", "a")|]]""", "'sum'", "'a' (4×8×8)", "1×1 projection")]
    public void PG0008_ResidualAddWithMismatchedShapes(string layers, params string[] keywords) =>
        AssertLayerError("PG0008", "[Network(1, 8, 8)]\n" + layers, keywords);

    [Theory]
    [InlineData("""[Conv2D("a", 4, 3, Padding = 1), MaxPool2D(2)][[|Concat("cat", "a")|]]""", "'cat'", "'maxpool1' (4×4×4)", "'a' (4×8×8)", "Resize one branch")]
    [InlineData("""[Flatten][[|Concat("cat", "input")|]]""", "'cat'", "'flatten1' (64)", "'input' (1×8×8)", "Resize one branch")]
    public void PG0009_ConcatWithMismatchedSpatialSizes(string layers, params string[] keywords) =>
        AssertLayerError("PG0009", "[Network(1, 8, 8)]\n" + layers, keywords);

    [Theory]
    [InlineData("[Network(3, 8, 8)]", """[[|Conv2D("conv", 4, 3, Groups = 2)|]]""", "'conv'", "2 groups", "3 input channels", "divides both")]
    [InlineData("[Network(4, 8, 8)]", """[[|Conv2D("conv", 6, 3, Groups = 4)|]]""", "'conv'", "4 groups", "6 output channels", "divides both")]
    public void PG0010_GroupsDoNotDivideChannels(string network, string layers, params string[] keywords) =>
        AssertLayerError("PG0010", network + "\n" + layers, keywords);

    [Theory]
    [InlineData("[Network(1, 8, 8)]", """[[|Dense("fc", 10)|]]""", "'fc'", "C×H×W tensor 1×8×8", "insert [Flatten] or [GlobalAvgPool]")]
    [InlineData("[Network(1, 8, 8)]", """[Flatten][[|Conv2D("conv", 4, 3)|]]""", "'conv'", "flat vector (64)", "Move it before [Flatten]")]
    [InlineData("[Network(1, 8, 8)]", """[Flatten][[|Flatten|]]""", "'flatten2'", "already flat", "remove the [Flatten]")]
    [InlineData("[Network(1, 8, 8)]", """[[|Softmax|]]""", "'softmax1'", "needs a flat vector", "insert [Flatten]")]
    [InlineData("[Network(16)]", """[[|ResidualBlock("block", 8)|]]""", "'block'", "flat vector (16)", "Move the block before")]
    [InlineData("[Network(16)]", """[[|MaxPool2D(2)|]]""", "'maxpool1'", "flat vector (16)", "Move it before")]
    [InlineData("[Network(16)]", """[Dense("fc", 8)][[|GlobalAvgPool|]]""", "'gap1'", "flat vector (8)", "Move it before")]
    public void PG0011_LayerCannotFollowItsInput(string network, string layers, params string[] keywords) =>
        AssertLayerError("PG0011", network + "\n" + layers, keywords);

    [Fact]
    public void PG0011_UnknownLayerKind_IsTheOnlyError()
    {
        // A LayerAttribute subclass the generator does not know (e.g. from a newer runtime): one
        // error at the attribute, not a second "declares no layers".
        AssertDiagnostics(
            """
            [Network(4)]
            [[|Gelu|]]
            public partial class Net;

            public sealed class GeluAttribute : LayerAttribute;
            """,
            ("PG0011", new[] { "'GeluAttribute'", "'Net'", "does not understand", "remove it or update PruneGen" }));
    }

    [Theory]
    [InlineData("""[[|Dense("1fc", 4)|]]""", "'1fc'", "not valid", "a letter or '_' first")]
    [InlineData("""[[|Dense("fc 1", 4)|]]""", "'fc 1'", "not valid", "letters, digits, '_', '.' or '-'")]
    [InlineData("""[Dense("fc", 4)][[|ReLU(Name = "act!")|]]""", "'act!'", "not valid", "a letter or '_' first")]
    [InlineData("""[[|Dense("", 4)|]]""", "Dense layer #1", "empty name", "give it a name")]
    public void PG0013_InvalidName(string layers, params string[] keywords) =>
        AssertLayerError("PG0013", "[Network(4)]\n" + layers, keywords);

    [Theory]
    [InlineData("""[Dense("fc_1", 8)][[|Dense("fc1", 4)|]]""", "'fc1'", "'fc_1'", "'Fc1'", "rename one of them")]
    [InlineData("""[Dense("block.1", 8)][[|Dense("block-1", 4)|]]""", "'block-1'", "'block.1'", "'Block1'", "rename one of them")]
    [InlineData("""[Dense("fc", 8)][[|Dense("fc_weight", 4)|]]""", "'fc_weight'", "'fc'", "'FcWeight'", "rename one of them")]
    [InlineData("""[[|Dense("size", 4)|]]""", "'size'", "'Size'", "rename the layer")]
    [InlineData("""[[|Dense("layers", 4)|]]""", "'layers'", "'Layers'", "rename the layer")]
    public void PG0014_NamesMapToOneIdentifier(string layers, params string[] keywords)
    {
        Assert.Equal(NetworkBuilder.ToIdentifier("fc_1"), NetworkBuilder.ToIdentifier("fc1"));
        AssertLayerError("PG0014", "[Network(4)]\n" + layers, keywords);
    }

    [Theory]
    [InlineData("[Network(4)]", """[Dense("fc", 4)][[|Dropout(1.0)|]]""", "'dropout1'", "rate 1", "use a rate in [0, 1)")]
    [InlineData("[Network(4)]", """[Dense("fc", 4)][[|Dropout(2)|]]""", "'dropout1'", "rate 2", "use a rate in [0, 1)")]
    [InlineData("[Network(4)]", """[Dense("fc", 4)][[|LeakyReLU(-2)|]]""", "'leaky_relu1'", "has slope", "use a slope in [0, 1)")]
    [InlineData("[Network(1, 8, 8)]", """[[|MaxPool2D(2, Padding = 2)|]]""", "'maxpool1'", "padding 2", "at most half the window (1)")]
    [InlineData("[Network(1, 8, 8)]", """[[|AvgPool2D(3, Padding = 2)|]]""", "'avgpool1'", "padding 2", "at most half the window (1)")]
    [InlineData("[Network(4)]", """[Dense("fc", 4)][[|Add("sum")|]]""", "'sum'", "names no layer to add", "name the shortcut")]
    public void PG0015_ArgumentOutOfRange(string network, string layers, params string[] keywords) =>
        AssertLayerError("PG0015", network + "\n" + layers, keywords);

    // ---- PG0022 – PG0026: compile-time budgets and shape checks, reported at their attribute ----

    // conv 4@3 pad 1 on 1×8×8: 2,304 MACs, 40 parameters; fc 64 → 10: 640 MACs, 650 parameters.
    // Forward workspace per sample: conv 256 + relu 256 + maxpool 64 + fc 10 = 586 floats (flatten
    // aliases); im2col scratch 1·3·3·64 = 576 floats (more than the implicit product's 4·80 = 320) plus the bordered input
    // 1·10·10 + 16 + 3 = 119, 695 floats per kernel thread.
    private const string BudgetNet = """
        [Conv2D("conv", 4, 3, Padding = 1), ReLU, MaxPool2D(2)]
        [Flatten]
        [Dense("fc", 10)]
        public partial class Net;
        """;

    [Fact]
    public void PG0022_MacsAboveBudget_StillEmitsTheNetwork()
    {
        var run = AssertMessages("[Network(1, 8, 8), [|MaxMacs(2_000)|]]\n" + BudgetNet,
            ("PG0022", "Net has 2,944 MACs per sample, above its [MaxMacs(2,000)] budget by 47.2 %; prune it or raise the budget."));

        // The code is valid, only too costly: the full network is emitted, so code using it keeps compiling.
        var source = Assert.Single(run.GeneratedSources).SourceText.ToString();
        Assert.Contains("public void Forward(", source, StringComparison.Ordinal);
        Assert.Contains("[MaxMacs]: 2,944 MACs per sample, budget 2,000.", source, StringComparison.Ordinal);
    }

    [Fact]
    public void PG0023_ParametersAboveBudget() =>
        AssertMessages("[Network(1, 8, 8)]\n[[|MaxParameters(600)|]]\n" + BudgetNet,
            ("PG0023", "Net has 690 trainable parameters, above its [MaxParameters(600)] budget by 15.0 %; prune it or raise the budget."));

    [Fact]
    public void PG0024_ActivationMemoryAboveBudget_MeasuredWithTheEmittedMemoryPlan()
    {
        // Batch 4: 4 × (4 × 330 + 695) = 8,060 bytes: conv + ReLU is one fused store, so only the ReLU's
        // output (256 floats) exists, then maxpool1 (64) and fc (10); the flatten aliases.
        var run = AssertMessages("[Network(1, 8, 8)]\n[[|MaxActivationMemory(7_000, Batch = 4)|]]\n" + BudgetNet,
            ("PG0024", "Net's Forward needs 8,060 bytes of workspace at batch 4 (5,280 for layer outputs + 2,780 of im2col scratch for one kernel thread; each further thread adds 2,780), above its [MaxActivationMemory(7,000, Batch = 4)] budget by 15.1 %; prune it, lower the batch or raise the budget."));

        // The same numbers the generated Forward sizes its workspace with.
        var source = Assert.Single(run.GeneratedSources).SourceText.ToString();
        Assert.Contains("private const int ActivationsPerSample = 330;", source, StringComparison.Ordinal);
        Assert.Contains("private const int ScratchLength = 695;", source, StringComparison.Ordinal);
    }

    [Fact]
    public void PG0024_TheDefaultBatchIsOne() =>
        AssertMessages("[Network(1, 8, 8)]\n[[|MaxActivationMemory(3_000)|]]\n" + BudgetNet,
            ("PG0024", "Net's Forward needs 4,100 bytes of workspace at batch 1 (1,320 for layer outputs + 2,780 of im2col scratch for one kernel thread; each further thread adds 2,780), above its [MaxActivationMemory(3,000, Batch = 1)] budget by 36.7 %; prune it, lower the batch or raise the budget."));

    [Theory]
    [InlineData("""ExpectShape("conv", 8, 8, 8)""", """Layer 'conv' of Net produces 4×8×8, but [ExpectShape("conv", 8, 8, 8)] expects 8×8×8; fix the layers that lead to it or the expectation.""")]
    [InlineData("""ExpectShape("maxpool1", 4, 8, 8)""", """Layer 'maxpool1' of Net produces 4×4×4, but [ExpectShape("maxpool1", 4, 8, 8)] expects 4×8×8; fix the layers that lead to it or the expectation.""")]
    [InlineData("""ExpectShape("conv", 3)""", """Layer 'conv' of Net produces 4×8×8, but [ExpectShape("conv", 3)] expects 3 channels; fix the layers that lead to it or the expectation.""")]
    [InlineData("""ExpectShape("fc", 12)""", """Layer 'fc' of Net produces 10 features, but [ExpectShape("fc", 12)] expects 12 features; fix the layers that lead to it or the expectation.""")]
    public void PG0025_ShapeDiffersFromExpectation(string attribute, string message) =>
        AssertMessages($"[Network(1, 8, 8)]\n[[|{attribute}|]]\n" + BudgetNet, ("PG0025", message));

    [Fact]
    public void PG0026_ExpectShapeOfAnUnknownLayer_ListsTheLayers() =>
        AssertMessages("[Network(1, 8, 8)]\n[[|ExpectShape(\"conv9\", 4)|]]\n" + BudgetNet,
            ("PG0026", "[ExpectShape(\"conv9\", 4)] names layer 'conv9', which network 'Net' does not have; name one of its layers: conv, relu1, maxpool1, flatten1, fc."));

    [Theory]
    [InlineData("MaxMacs(0)", "[MaxMacs(0)] on network 'Net' allows no work at all; give the most multiply-accumulates per sample it may take (at least 1), or remove the attribute.")]
    [InlineData("MaxParameters(-5)", "[MaxParameters(-5)] on network 'Net' allows no parameters at all; give the most trainable parameters it may have (at least 1), or remove the attribute.")]
    [InlineData("MaxActivationMemory(100_000, Batch = 0)", "[MaxActivationMemory(100,000, Batch = 0)] on network 'Net' is out of range; give the most bytes the Forward workspace may take (at least 1) and a batch of at least 1.")]
    [InlineData("""ExpectShape("fc", 0)""", """[ExpectShape("fc", 0)] on network 'Net' expects a dimension below 1; every expected dimension must be at least 1.""")]
    [InlineData("""ExpectShape("conv", 4, 0, 8)""", """[ExpectShape("conv", 4, 0, 8)] on network 'Net' expects a dimension below 1; every expected dimension must be at least 1.""")]
    public void PG0015_BudgetArgumentOutOfRange(string attribute, string message) =>
        AssertMessages($"[Network(1, 8, 8)]\n[[|{attribute}|]]\n" + BudgetNet, ("PG0015", message));

    [Fact]
    public void BudgetsThatHold_ReportNothing_AndTheSummaryListsThem()
    {
        var run = GeneratorHarness.Run(Prologue + """
            [Network(1, 8, 8), MaxMacs(2_944), MaxParameters(690), MaxActivationMemory(8_060, Batch = 4)]
            [ExpectShape("conv", 4, 8, 8), ExpectShape("maxpool1", 4), ExpectShape("fc", 10), ExpectShape("flatten1", 64, 1, 1), ExpectShape("input", 1, 8, 8)]
            """ + "\n" + BudgetNet);

        Assert.True(run.GeneratorDiagnostics.IsEmpty, GeneratorRun.Format(run.GeneratorDiagnostics));
        Assert.True(run.OutputDiagnostics.IsEmpty, GeneratorRun.Format(run.OutputDiagnostics));
        var source = Assert.Single(run.GeneratedSources).SourceText.ToString();
        Assert.Contains("/// <item>[MaxMacs]: 2,944 MACs per sample, budget 2,944.</item>", source, StringComparison.Ordinal);
        Assert.Contains("/// <item>[MaxParameters]: 690 trainable parameters, budget 690.</item>", source, StringComparison.Ordinal);
        Assert.Contains("/// <item>[MaxActivationMemory]: Forward workspace 8,060 bytes at batch 4 (one kernel thread), budget 8,060.</item>", source, StringComparison.Ordinal);
        Assert.Contains("/// <item>[ExpectShape]: <c>conv</c> produces 4×8×8.</item>", source, StringComparison.Ordinal);
        Assert.Contains("/// <item>[ExpectShape]: <c>maxpool1</c> produces 4 channels.</item>", source, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryViolatedBudget_IsReported_InDeclarationOrder() =>
        AssertDiagnostics(
            """
            [Network(1, 8, 8), [|MaxMacs(1_000)|], [|MaxParameters(100)|]]
            [[|ExpectShape("fc", 9)|]]
            """ + "\n" + BudgetNet,
            ("PG0022", new[] { "2,944 MACs" }),
            ("PG0023", new[] { "690 trainable parameters" }),
            ("PG0025", new[] { "'fc'" }));

    [Fact]
    public void ADeclarationError_SkipsTheBudgetChecks() =>
        AssertDiagnostics(
            """
            [Network(1, 8, 8), MaxMacs(1), ExpectShape("nope", 1)]
            [[|Conv2D("conv", 0, 3)|]]
            public partial class Net;
            """,
            ("PG0005", new[] { "'conv'" }));

    // ---- Several errors, no cascades ----

    [Fact]
    public void IndependentErrors_AreEachReportedAtTheirAttribute_InDeclarationOrder() =>
        AssertDiagnostics(
            """
            [Network(1, 8, 8)]
            [[|Conv2D("conv", 4, 3, Groups = 3)|]]
            [Flatten(Input = "input")]
            [[|Dropout(1.0)|]]
            public partial class Net;
            """,
            ("PG0010", new[] { "'conv'" }),
            ("PG0015", new[] { "'dropout1'" }));

    [Fact]
    public void LayersAfterAnError_AreNotReportedAgain() =>
        AssertDiagnostics(
            """
            [Network(1, 8, 8)]
            [[|Conv2D("conv", 4, 9)|], ReLU, MaxPool2D(2)]
            [Flatten]
            [Dense("fc", 10)]
            public partial class Net;
            """,
            ("PG0006", new[] { "'conv'" }));

    // ---- Invalid declarations still emit the public surface; valid ones compile cleanly ----

    [Fact]
    public void InvalidDeclaration_UserCodeStillCompiles_WithOnlyThePGError()
    {
        var run = AssertDiagnostics(
            """
            [Network(4)]
            [[|Dense("fc1", 0)|]]
            public partial class Net;

            public static class User
            {
                public static float Run()
                {
                    var net = new Net();
                    var graph = Net.Graph;
                    var parameters = net.Parameters;
                    var output = new float[2];
                    net.Forward(new float[4], output, 1);
                    INetwork asInterface = net;
                    ITrainableNetwork trainable = net;
                    net.TrainForward(new float[4], 1);
                    net.Backward(output, 1);
                    return output[0] + graph.Layers.Count + parameters.Count + asInterface.InputSize + trainable.OutputSize;
                }
            }
            """,
            ("PG0005", new[] { "'fc1'" }));
        var source = Assert.Single(run.GeneratedSources).SourceText.ToString();
        Assert.Contains("not generated: its declaration has errors", source, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[Network(4)]\n[Dense(\"fc\", 2)]\npublic partial class GlobalNet;")]
    [InlineData("namespace App;\n[Network(4)]\n[Dense(\"fc\", 2)]\ninternal partial class InternalNet;")]
    [InlineData("namespace App.Deep.Er { [Network(4)] [Dense(\"fc\", 2)] partial class BlockScoped; }")]
    [InlineData("namespace App;\n[Network(3, 6, 6)]\n[Conv2D(\"block-1.conv\", 4, 3), BatchNorm(\"block-1.bn\"), ReLU(Name = \"_act\")]\n[Flatten, BatchNorm(\"flat_bn\"), Dense(\"out\", 2), Softmax]\npublic sealed partial class OddNames;")]
    [InlineData("namespace App;\n[Network(4)]\n[Dense(\"kernel\", 4), Dense(\"in\", 4), Dense(\"out\", 4), Dense(\"forward\", 2)]\npublic partial class MemberLikeNames;")]
    public void ValidDeclaration_OutputCompilationHasNoErrorsOrWarnings(string source)
    {
        var run = GeneratorHarness.Run("using PruneGen;\n" + source);
        Assert.Null(run.Result.Exception);
        Assert.True(run.GeneratorDiagnostics.IsEmpty, GeneratorRun.Format(run.GeneratorDiagnostics));
        Assert.True(run.OutputDiagnostics.IsEmpty, GeneratorRun.Format(run.OutputDiagnostics));
        var generated = Assert.Single(run.GeneratedSources).SourceText.ToString();
        Assert.Contains("public void Forward(", generated, StringComparison.Ordinal);
        Assert.DoesNotContain("has declaration errors", generated, StringComparison.Ordinal);
    }

    // ---- PG0012: generator exceptions never escape ----

    [Fact]
    public void PG0012_AnEmitterFailure_BecomesADiagnosticAndTheSurface()
    {
        // No valid declaration is known to crash the emitter any more; a graph the builder accepts but
        // the emitter cannot write (a one-input Add, which used to escape as CS8785 and drop all output)
        // goes through the same path the source output uses.
        var declaration = new NetworkDeclaration("Broken", 4, 1, 1, new EquatableArray<LayerDeclaration>(new[]
        {
            new LayerDeclaration("fc", LayerKind.Dense, EquatableArray<string>.Empty, Size: 4),
            new LayerDeclaration("sum", LayerKind.Add, EquatableArray<string>.Empty, DeclarationIndex: 1),
        }));
        var graph = NetworkBuilder.Build(declaration).Graph;
        Assert.NotNull(graph);
        var spec = new NetworkSpec("App", "Broken", "public", declaration, graph);

        var (source, error) = NetworkGenerator.EmitSafely(spec);

        Assert.NotNull(error);
        Assert.Contains("'Broken'", error, StringComparison.Ordinal);
        Assert.Contains("please report", error, StringComparison.Ordinal);
        Assert.Contains("not generated: its declaration has errors", source, StringComparison.Ordinal);
        var user = GeneratorHarness.Compile("namespace App;\npublic partial class Broken;", source);
        Assert.True(user.GetDiagnostics().IsEmpty, GeneratorRun.Format(user.GetDiagnostics()));
    }

    [Fact]
    public void PG0012_Descriptor_IsAnError() =>
        Assert.Equal(DiagnosticSeverity.Error, DiagnosticDescriptors.Get("PG0012").DefaultSeverity);

    [Fact]
    public void AddWithANullInputList_IsAnArgumentError_NotACrash()
    {
        // Used to throw NullReferenceException inside the parser (reported as PG0012).
        var (source, spans) = Markup.Parse(Prologue + """
            [Network(4)]
            [Dense("fc", 4)]
            [[|Add("sum", null!)|]]
            public partial class Net;
            """);
        var run = GeneratorHarness.Run(source);
        Assert.Null(run.Result.Exception);
        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("PG0015", d.Id);
        Assert.Equal(Assert.Single(spans), d.Location.SourceSpan);
    }

    [Theory]
    [InlineData("""[Dense("fc", 2, Bias = true, Bias = false)]""", "CS0643")]
    [InlineData("""[Dense("fc", Units)]""", "CS0103")]
    [InlineData("""[Dense("fc", "10")]""", "CS1503")]
    [InlineData("""[Flattn, Dense("fc", 2)]""", "CS0246")]
    public void MalformedLayerAttribute_OnlyTheCompilerReportsIt(string layers, string compilerError)
    {
        // Duplicate named arguments used to crash the parser (PG0012); the others produced shape
        // errors computed from guessed values.
        var run = GeneratorHarness.Run(Prologue + "[Network(4)]\n" + layers + "\npublic partial class Net;");
        Assert.Null(run.Result.Exception);
        Assert.True(run.GeneratorDiagnostics.IsEmpty, GeneratorRun.Format(run.GeneratorDiagnostics));
        Assert.Contains(run.OutputDiagnostics, d => d.Id == compilerError);
        Assert.All(run.OutputDiagnostics, d => Assert.True(d.Location.SourceTree == run.Input.SyntaxTrees.Single(), d.ToString()));
    }

    [Fact]
    public void MalformedNetworkAttribute_OnlyTheCompilerReportsIt()
    {
        var run = GeneratorHarness.Run(Prologue + "[Network(Size)]\n[Dense(\"fc\", 2)]\npublic partial class Net;");
        Assert.True(run.GeneratorDiagnostics.IsEmpty, GeneratorRun.Format(run.GeneratorDiagnostics));
        Assert.Equal("CS0103", Assert.Single(run.OutputDiagnostics).Id);
    }

    // ---- Helpers ----

    /// <summary><see cref="AssertDiagnostics"/> with whole messages instead of keywords.</summary>
    private static GeneratorRun AssertMessages(string markup, params (string Id, string Message)[] expected)
    {
        var run = AssertDiagnostics(markup, expected.Select(e => (e.Id, new[] { e.Message })).ToArray());
        Assert.Equal(expected.Select(e => e.Message), run.GeneratorDiagnostics.Select(d => d.GetMessage(CultureInfo.InvariantCulture)));
        return run;
    }

    private static void AssertLayerError(string id, string attributes, params string[] keywords) =>
        AssertDiagnostics(attributes + "\npublic partial class Net;", (id, keywords));

    /// <summary>
    /// Runs the generator on <see cref="Prologue"/> + <paramref name="markup"/> and checks that it reports
    /// exactly <paramref name="expected"/>, in order, each at the matching <c>[|...|]</c> span, as an
    /// error whose message contains every keyword; and that the output compilation has no errors or
    /// warnings (no cascade from the generated code).
    /// </summary>
    private static GeneratorRun AssertDiagnostics(string markup, params (string Id, string[] Keywords)[] expected)
    {
        var (source, spans) = Markup.Parse(Prologue + markup);
        Assert.Equal(expected.Length, spans.Length);
        var run = GeneratorHarness.Run(source);
        var tree = run.Input.SyntaxTrees.Single();

        Assert.Null(run.Result.Exception);
        var actual = run.GeneratorDiagnostics;
        Assert.True(actual.Length == expected.Length, $"Expected {string.Join(", ", expected.Select(e => e.Id))}, got:{Environment.NewLine}{GeneratorRun.Format(actual)}");
        for (var i = 0; i < expected.Length; i++)
        {
            var d = actual[i];
            var message = d.GetMessage(CultureInfo.InvariantCulture);
            Assert.Equal(expected[i].Id, d.Id);
            Assert.Equal(DiagnosticSeverity.Error, d.Severity);
            AssertLocation(d, tree, spans[i]);
            foreach (var keyword in expected[i].Keywords)
            {
                Assert.True(message.Contains(keyword, StringComparison.Ordinal), $"{d.Id} message lacks \"{keyword}\": {message}");
            }
        }

        Assert.True(run.OutputDiagnostics.IsEmpty, "The generated code must add no errors or warnings: " + GeneratorRun.Format(run.OutputDiagnostics));
        return run;
    }

    private static void AssertLocation(Diagnostic d, SyntaxTree tree, TextSpan expected)
    {
        Assert.True(d.Location.IsInSource, $"{d.Id} has no source location");
        Assert.Same(tree, d.Location.SourceTree);
        var want = tree.GetLineSpan(expected);
        var got = d.Location.GetLineSpan();
        Assert.True(
            want.StartLinePosition == got.StartLinePosition && want.EndLinePosition == got.EndLinePosition,
            $"{d.Id} at {got.StartLinePosition}-{got.EndLinePosition} ('{tree.GetText().ToString(d.Location.SourceSpan)}'), expected {want.StartLinePosition}-{want.EndLinePosition} ('{tree.GetText().ToString(expected)}')");
        Assert.Equal(expected, d.Location.SourceSpan);
    }
}
