using PruneGen.Checkpoints;
using PruneGen.Pruning;
using PruneGen.Tests.Data;
using PruneGen.Training;
using static PruneGen.Tests.Pruning.PruningTestSupport;

namespace PruneGen.Tests.Pruning;

/// <summary>Physical slicing beyond the forward pass: optimizer state, saved files, shape checks.</summary>
public sealed class SlicingTests : IDisposable
{
    private readonly DataTestSupport.TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void SgdMomentumIsSlicedLikeItsParameter()
    {
        INetwork net = new PrConcat();
        Numerics.Numerics.Randomize(net, 1);
        var sgd = new Sgd(net.Parameters, momentum: 0.9f);
        foreach (var p in net.Parameters.Where(p => p.Spec.Trainable))
        {
            sgd.LoadState(p.Name + ".momentum", p.Data.Select(v => (2 * v) + 1).ToArray());
        }

        var pruned = PlanSlicer.Slice(net, Plan(net, ("a", [0, 2]), ("b", [1, 3]), ("c", [0, 1, 4])), sgd);

        // momentum = 2·w + 1 element by element before slicing, so it must be after.
        var trainable = pruned.Graph.AllParameters.Where(s => s.Trainable).Select(s => s.Name).ToArray();
        Assert.Equal(trainable.Select(n => n + ".momentum"), pruned.OptimizerState.Select(t => t.Name));
        foreach (var state in pruned.OptimizerState)
        {
            var weights = pruned[state.Name[..^".momentum".Length]];
            Assert.Equal(weights.Shape, state.Shape);
            Assert.Equal(weights.Data.Select(v => (2 * v) + 1), state.Data);
        }

        // Without an optimizer there is no state.
        Assert.Empty(PlanSlicer.Slice(net, Plan(net, ("a", [0]))).OptimizerState);
    }

    [Fact]
    public void SavedPrunedWeightsAreASafetensorsFileCarryingThePlan()
    {
        INetwork net = new PrVgg();
        Numerics.Numerics.Randomize(net, 2);
        var plan = Plan(net, ("conv1", [0, 2, 3, 5]), ("conv2", [1, 2, 4, 6, 7]), ("fc1", [0, 1, 3, 4, 6, 8, 9]));
        var pruned = PlanSlicer.Slice(net, plan);
        var path = _dir.File("pruned.safetensors");
        pruned.Save(path);

        var file = SafetensorsFile.Read(path);
        Assert.Equal(plan, PlanFile.Parse(file.Metadata["prunegen.plan"], path));
        Assert.Equal("PrVgg", file.Metadata[Checkpoint.NetworkKey]);
        Assert.Equal(pruned.Tensors.Select(t => t.Name), file.Tensors.Select(t => t.Name));
        foreach (var t in pruned.Tensors)
        {
            Assert.Equal(t.Shape, file[t.Name].Shape);
            Assert.Equal(t.Data, file[t.Name].Data);
        }

        Assert.Equal(["pruned.safetensors"], Directory.GetFiles(_dir.Path).Select(Path.GetFileName));

        // The file loads into the hand-declared pruned network.
        INetwork small = new PrVggSmall();
        foreach (var t in file.Tensors)
        {
            t.Data.CopyTo(small.Parameters[t.Name].Data, 0);
        }

        var input = Numerics.Numerics.RandomInput(2 * net.InputSize, 3);
        PruningMask.Create(net.Graph, plan).Apply(net.Parameters);
        Numerics.Numerics.AssertClose(Forward(small, input, 2), Forward(net, input, 2), "loaded pruned file vs masked");
    }

    [Fact]
    public void SlicingRejectsAnInvalidPlanAndCopyToRejectsAnotherNetwork()
    {
        INetwork net = new PrVgg();
        var e = Assert.Throws<PlanException>(() => PlanSlicer.Slice(net, Plan(net, ("conv1", [3, 1]))));
        Assert.Equal("groups[0].kept[1]", Assert.Single(e.Errors).Path);

        var pruned = PlanSlicer.Slice(net, Plan(net, ("conv1", [1, 3])));
        var wrong = Assert.Throws<ArgumentException>(() => pruned.CopyTo(new PrVggSmall().Parameters));
        Assert.StartsWith("Parameter 'conv1.weight' has shape [4, 2, 3, 3] in the target network, but the pruned weights have [2, 2, 3, 3].", wrong.Message);
    }
}
