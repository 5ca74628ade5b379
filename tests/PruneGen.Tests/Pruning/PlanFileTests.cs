using PruneGen.Model;
using PruneGen.Model.Pruning;
using PruneGen.Pruning;
using PruneGen.Tests.Data;
using static PruneGen.Tests.Pruning.PruningTestSupport;

namespace PruneGen.Tests.Pruning;

/// <summary>Plan JSON: round trips, atomic writes, and every reading and validation error with its path and message.</summary>
public sealed class PlanFileTests : IDisposable
{
    private readonly DataTestSupport.TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static PruningPlan VggPlan() => new(
        PruningPlan.CurrentVersion, "PrVgg", "l1", 42,
        new EquatableArray<PlanGroup>([new PlanGroup("conv1", 6, new EquatableArray<int>([0, 2, 5])), new PlanGroup("fc1", 10, new EquatableArray<int>([1, 2, 3, 9]))]),
        EquatableArray<string>.Empty,
        new PlanSummary(1000, 500, 300, 150));

    private const string Head = """{ "format": "prunegen.plan", "version": 1, "network": "PrVgg", """;

    /// <summary>The single error of parsing <paramref name="json"/>.</summary>
    private static PlanError ParseError(string json)
    {
        var e = Assert.Throws<PlanException>(() => PlanFile.Parse(json, "test.json"));
        Assert.Equal("test.json", e.Source);
        return Assert.Single(e.Errors);
    }

    /// <summary>The single error of validating <paramref name="plan"/> against <paramref name="network"/>.</summary>
    private static PlanError ValidationError(INetwork network, PruningPlan plan) => Assert.Single(PlanValidator.Validate(plan, network.Graph.Declaration!));

    [Fact]
    public void JsonRoundTripsEveryField()
    {
        var plan = VggPlan();
        var json = PlanFile.ToJson(plan);
        Assert.Contains("\"kept\": [0, 2, 5]", json);
        Assert.Contains("\"format\": \"prunegen.plan\"", json);
        var back = PlanFile.Parse(json, "x");
        Assert.Equal(plan, back);
        Assert.Equal(json, PlanFile.ToJson(back));

        var blocks = Plan(new PrResNet(), ["b1", "b3"], ("stem", [0, 1]));
        Assert.Equal(blocks, PlanFile.Parse(PlanFile.ToJson(blocks), "y"));
    }

    [Fact]
    public void WriteThenReadGivesThePlanAndLeavesNoTemporaryFile()
    {
        var path = _dir.File("plan.json");
        File.WriteAllText(path, "old content");
        PlanFile.Write(path, VggPlan());
        Assert.Equal(VggPlan(), PlanFile.Read(path));
        Assert.Equal(["plan.json"], Directory.GetFiles(_dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void LoadValidatesAgainstTheNetworkAndNamesTheFile()
    {
        INetwork net = new PrVgg();
        var path = _dir.File("good.json");
        PlanFile.Write(path, VggPlan());
        Assert.Equal(VggPlan(), PlanFile.Load(path, net));

        var bad = _dir.File("bad.json");
        PlanFile.Write(bad, VggPlan() with { Groups = new EquatableArray<PlanGroup>([new PlanGroup("conv1", 6, new EquatableArray<int>([0, 9]))]) });
        var e = Assert.Throws<PlanException>(() => PlanFile.Load(bad, net));
        Assert.Equal(bad, e.Source);
        Assert.Equal($"Pruning plan '{bad}' has a problem:{Environment.NewLine}  groups[0].kept[1]: group 'conv1' keeps channel 9, outside 0..5.", e.Message);
    }

    [Fact]
    public void LoadingAMissingFileNamesIt()
    {
        var path = _dir.File("missing.json");
        var e = Assert.Throws<FileNotFoundException>(() => PlanFile.Load(path, new PrVgg()));
        Assert.Equal(path, e.FileName);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void InvalidJsonGivesItsLine()
    {
        var error = ParseError("{\n  \"format\": \"prunegen.plan\",\n  \"version\": 1,,\n}");
        Assert.Equal(string.Empty, error.Path);
        Assert.StartsWith("not valid JSON (line 3, ", error.Message);
    }

    [Theory]
    [InlineData("\"groups\": [], \"extra\": 1 }", "extra", "unknown property 'extra'; the properties here are format, version, network, criterion, seed, groups, removedBlocks, removedLayers, summary.")]
    [InlineData("\"groups\": [ { \"name\": \"conv1\", \"channels\": 6, \"kept\": [0], \"keep\": [1] } ] }", "groups[0].keep", "unknown property 'keep'; the properties here are name, channels, kept.")]
    [InlineData("\"removedBlocks\": [] }", "groups", "the required property 'groups' is missing.")]
    [InlineData("\"groups\": [ { \"name\": \"conv1\", \"kept\": [0] } ] }", "groups[0].channels", "the required property 'channels' is missing.")]
    [InlineData("\"groups\": {} }", "groups", "expected an array, found an object.")]
    [InlineData("\"groups\": [ 3 ] }", "groups[0]", "expected an object { \"name\", \"channels\", \"kept\" }, found the number 3.")]
    [InlineData("\"groups\": [ { \"name\": 1, \"channels\": 6, \"kept\": [0] } ] }", "groups[0].name", "expected a string, found the number 1.")]
    [InlineData("\"groups\": [ { \"name\": \"conv1\", \"channels\": \"6\", \"kept\": [0] } ] }", "groups[0].channels", "expected an integer, found the string \"6\".")]
    [InlineData("\"groups\": [ { \"name\": \"conv1\", \"channels\": 6, \"kept\": [0, 1.5] } ] }", "groups[0].kept[1]", "expected a channel index (an integer), found the number 1.5.")]
    [InlineData("\"groups\": [], \"removedBlocks\": [ true ] }", "removedBlocks[0]", "expected a block name (a string), found true.")]
    [InlineData("\"groups\": [], \"seed\": \"7\" }", "seed", "expected a non-negative integer, found the string \"7\".")]
    [InlineData("\"groups\": [], \"seed\": -1 }", "seed", "expected a non-negative integer, found the number -1.")]
    [InlineData("\"groups\": [], \"criterion\": 3 }", "criterion", "expected a string, found the number 3.")]
    public void StructuralErrorsNameTheirPath(string rest, string path, string message)
    {
        var error = ParseError(Head + rest);
        Assert.Equal(path, error.Path);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void FormatAndVersionAreChecked()
    {
        var format = ParseError("""{ "format": "onnx", "version": 1, "network": "PrVgg", "groups": [] }""");
        Assert.Equal(new PlanError("format", "is 'onnx', expected 'prunegen.plan'; this is not a PruneGen pruning plan."), format);

        var version = ParseError("""{ "format": "prunegen.plan", "version": 2, "network": "PrVgg", "groups": [] }""");
        Assert.Equal(new PlanError("version", "plan format version 2 is not supported; this PruneGen reads version 1. Re-create the plan with this version."), version);

        var missing = ParseError("""{ "format": "prunegen.plan", "network": "PrVgg", "groups": [] }""");
        Assert.Equal(new PlanError("version", "the required property 'version' is missing."), missing);

        var notObject = ParseError("[1]");
        Assert.Equal(new PlanError(string.Empty, "expected a JSON object, found an array."), notObject);
    }

    [Fact]
    public void ValidationReportsVersionAndNetworkMismatches()
    {
        INetwork net = new PrVgg();
        Assert.Empty(PlanValidator.Validate(VggPlan(), PrVgg.Graph.Declaration!));
        Assert.Equal(new PlanError("version", "plan format version 3 is not supported; this PruneGen reads version 1. Re-create the plan with this version."), ValidationError(net, VggPlan() with { Version = 3 }));
        Assert.Equal(new PlanError("network", "the plan prunes 'VggNet', not 'PrVgg'. Use a plan made for 'PrVgg'."), ValidationError(net, VggPlan() with { Network = "VggNet" }));
    }

    public static TheoryData<string, string, string> GroupErrors => new()
    {
        { "nope:6:0", "groups[0].name", "'nope' is not a channel group of 'PrVgg': the prunable groups are conv1, conv2, fc1." },
        { "logits:3:0", "groups[0].name", "group 'logits' cannot be pruned: it is the output of the network ('logits'), whose width is fixed." },
        { "input:2:0", "groups[0].name", "group 'input' cannot be pruned: it is the network input, whose channels are fixed by the data." },
        { "conv1:8:0", "groups[0].channels", "group 'conv1' has 6 channels in 'PrVgg', but the plan says 8. The plan was made for a different network." },
        { "conv1:6:", "groups[0].kept", "group 'conv1' keeps no channels; keep at least one (to drop a whole residual block, list it in removedBlocks)." },
        { "conv1:6:0,6", "groups[0].kept[1]", "group 'conv1' keeps channel 6, outside 0..5." },
        { "conv1:6:-1", "groups[0].kept[0]", "group 'conv1' keeps channel -1, outside 0..5." },
        { "conv1:6:1,1", "groups[0].kept[1]", "group 'conv1' keeps channel 1 twice; list each kept channel once." },
        { "conv1:6:3,1", "groups[0].kept[1]", "group 'conv1' lists kept channel 1 after 3; list kept channels in increasing order." },
    };

    [Theory]
    [MemberData(nameof(GroupErrors))]
    public void ValidationReportsEachGroupErrorWithItsPath(string entry, string path, string message)
    {
        var parts = entry.Split(':');
        var kept = parts[2].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
        var plan = VggPlan() with { Groups = new EquatableArray<PlanGroup>([new PlanGroup(parts[0], int.Parse(parts[1]), new EquatableArray<int>(kept))]) };
        Assert.Equal(new PlanError(path, message), ValidationError(new PrVgg(), plan));
    }

    [Fact]
    public void ValidationReportsADuplicateGroupOnItsSecondEntry()
    {
        var plan = Plan(new PrVgg(), ("conv1", [0]), ("conv2", [1]), ("conv1", [2]));
        Assert.Equal(new PlanError("groups[2].name", "group 'conv1' is listed twice; list each group once."), ValidationError(new PrVgg(), plan));
    }

    [Fact]
    public void NamingANonRootProducerHintsAtItsGroup()
    {
        var plan = Plan(new PrResNet(), ("b1.conv2", [0]));
        Assert.Equal(new PlanError("groups[0].name", "'b1.conv2' is not a channel group of 'PrResNet': layer 'b1.conv2' belongs to group 'stem'; name the group 'stem'."), ValidationError(new PrResNet(), plan with { Groups = new EquatableArray<PlanGroup>([new PlanGroup("b1.conv2", 4, new EquatableArray<int>([0]))]) }));
        Assert.Equal(new PlanError("groups[0].name", "'b2.proj' is not a channel group of 'PrResNet': layer 'b2.proj' belongs to group 'b2.conv2'; name the group 'b2.conv2'."), ValidationError(new PrResNet(), plan with { Groups = new EquatableArray<PlanGroup>([new PlanGroup("b2.proj", 6, new EquatableArray<int>([0]))]) }));
    }

    [Theory]
    [InlineData("zz", "removedBlocks[0]", "'zz' is not a residual block of 'PrResNet' (its blocks are b1, b2, b3).")]
    [InlineData("b2", "removedBlocks[0]", "block 'b2' cannot be removed: block 'b2' changes the shape (4×8×8 → 6×4×4) through a projection shortcut.")]
    [InlineData("b1,b1", "removedBlocks[1]", "block 'b1' is listed twice; list it once.")]
    public void ValidationReportsEachBlockError(string blocks, string path, string message)
    {
        var plan = Plan(new PrResNet(), blocks.Split(','));
        Assert.Equal(new PlanError(path, message), ValidationError(new PrResNet(), plan));
    }

    [Fact]
    public void ValidationReportsBlocksOfANetworkWithoutBlocks()
    {
        var plan = Plan(new PrVgg(), ["b1"]);
        Assert.Equal(new PlanError("removedBlocks[0]", "'b1' is not a residual block of 'PrVgg' (it has none)."), ValidationError(new PrVgg(), plan));
    }

    [Fact]
    public void ValidationReportsAGroupInsideARemovedBlock()
    {
        var plan = Plan(new PrResNet(), ["b3"], ("b3.conv1", [0, 1]));
        Assert.Equal(new PlanError("groups[0].name", "group 'b3.conv1' lies inside removed block 'b3'; delete this entry."), ValidationError(new PrResNet(), plan));
    }

    [Fact]
    public void ValidationCollectsEveryProblemAndTheExceptionListsThem()
    {
        var plan = Plan(new PrVgg(), ("conv1", [0, 0]), ("nope", [1]), ("fc1", [10])) with { Network = "Other" };
        var e = Assert.Throws<PlanException>(() => PlanFile.Validate(plan, PrVgg.Graph, "mine"));
        Assert.Equal(["network", "groups[0].kept[1]", "groups[1].name", "groups[2].kept[0]"], e.Errors.Select(x => x.Path));
        Assert.StartsWith("Pruning plan 'mine' has 4 problems:", e.Message);
    }
}
