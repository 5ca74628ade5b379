using PruneGen.Checkpoints;
using PruneGen.Model;
using PruneGen.Model.Pruning;
using PruneGen.Onnx;
using PruneGen.Pruning;
using PruneGen.Tests.Numerics;
using PruneGen.Tests.Onnx;

namespace PruneGen.Tests.Compiled;

/// <summary>
/// Compiled pruned networks (<c>[PrunedNetwork]</c>) against the masked base: the base filled with random
/// weights, sliced with <see cref="PlanSlicer"/> and loaded into the pruned class, must compute what
/// the base computes with the plan's mask applied (1e-5); the pruned class's metadata (graph,
/// constants, parameter names) must be the pruned graph's, so checkpoints and ONNX export see the
/// pruned shapes.
/// </summary>
public class CompiledPrunedNetworkTests
{
    private const double Tolerance = 1e-5;

    [Fact]
    public void Vgg_PrunedForward_EqualsMaskedBase()
    {
        var (masked, pruned) = Prepare(new CompiledVgg(), new CompiledVggPruned(), "vgg.plan.json", seed: 1);
        AssertSameOutputs(masked, pruned, batch: 3, seed: 11);
    }

    [Fact]
    public void ResNet_WithARemovedBlock_PrunedForward_EqualsMaskedBase()
    {
        var (masked, pruned) = Prepare(new CompiledResNet(), new CompiledResNetPruned(), "res.plan.json", seed: 2);
        AssertSameOutputs(masked, pruned, batch: 4, seed: 12);
        Assert.DoesNotContain(CompiledResNetPruned.Graph.Layers, l => l.Block == "b2");
        Assert.Equal(new[] { "b2" }, CompiledResNetPruned.Overrides.RemovedBlocks.ToArray());
    }

    [Fact]
    public void PrunedMetadata_IsThePrunedGraph()
    {
        var plan = PlanFile.Read(PlanPath("vgg.plan.json"));
        var expected = NetworkBuilder.BuildOrThrow(CompiledVgg.Declaration, PlanValidator.ToOverrides(plan, CompiledVgg.Graph));

        Assert.Equal(expected, CompiledVggPruned.Graph);
        Assert.Equal(CompiledVgg.Declaration, CompiledVggPruned.Declaration);
        Assert.Equal(5, CompiledVggPruned.Layers.Conv1.Channels);
        Assert.Equal(9 * 3 * 3, CompiledVggPruned.Layers.Flatten1.Size);
        Assert.Equal(10, CompiledVggPruned.Layers.Fc1.Channels);
        Assert.Equal(8, CompiledVggPruned.Graph.Find("conv1")!.BaseChannels);
        Assert.Equal(CompiledVggPruned.TotalMacs, expected.TotalMacs);
        Assert.Equal(CompiledVggPruned.TotalParameters, expected.TotalParameters);
        Assert.True(CompiledVggPruned.TotalMacs < CompiledVgg.TotalMacs);
        Assert.Equal(CompiledVgg.Graph.OutputShape, CompiledVggPruned.Graph.OutputShape);

        // Same parameter names as the base (and as the sliced safetensors), pruned shapes.
        var pruned = new CompiledVggPruned();
        Assert.Equal(new CompiledVgg().Parameters.Select(p => p.Name), pruned.Parameters.Select(p => p.Name));
        Assert.Equal(new[] { 5, 3, 3, 3 }, pruned.Conv1Weight.Shape.ToArray());
        Assert.Equal(new[] { 10, 81 }, pruned.Fc1Weight.Shape.ToArray());
    }

    [Fact]
    public void SlicedWeightsSavedAsSafetensors_LoadAsACheckpointOfThePrunedClass()
    {
        var network = new CompiledResNet();
        Numerics.Numerics.Randomize(network, 3);
        var plan = PlanFile.Read(PlanPath("res.plan.json"));
        var path = Path.Combine(Path.GetTempPath(), $"prunegen-compiled-{Environment.ProcessId}-{Guid.NewGuid():N}.safetensors");
        try
        {
            var sliced = PlanSlicer.Slice(network, plan);
            sliced.Save(path);
            var pruned = new CompiledResNetPruned();
            Checkpoint.Load(pruned, path);
            foreach (var t in sliced.Tensors)
            {
                Assert.Equal(t.Data, pruned.Parameters[t.Name].Data);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void OnnxExportOfThePrunedClass_RunsInOnnxRuntime_AtThePrunedShapes()
    {
        var (_, pruned) = Prepare(new CompiledResNet(), new CompiledResNetPruned(), "res.plan.json", seed: 4);
        var input = Numerics.Numerics.RandomInput(2 * CompiledResNetPruned.InputSize, seed: 14);
        using var session = OrtOracle.CreateSession(OnnxExporter.Export(pruned));
        var ort = OrtOracle.Run(session, CompiledResNetPruned.Graph, input, 2);
        OrtOracle.AssertClose(ort, OrtOracle.Forward(pruned, input, 2), "pruned ResNet vs ONNX Runtime");
    }

    // ---- Helpers ----

    private static string PlanPath(string name) => Path.Combine(AppContext.BaseDirectory, "Compiled", "Plans", name);

    /// <summary>Randomizes the base, loads its sliced weights into <paramref name="pruned"/>, then masks the base.</summary>
    private static (INetwork Masked, INetwork Pruned) Prepare(INetwork network, INetwork pruned, string planName, int seed)
    {
        Numerics.Numerics.Randomize(network, seed);
        var plan = PlanFile.Read(PlanPath(planName));
        PlanSlicer.Slice(network, plan).CopyTo(pruned.Parameters);
        PruningMask.Create(network.Graph, plan).Apply(network.Parameters);
        Assert.Equal(network.OutputSize, pruned.OutputSize);
        Assert.True(pruned.Graph.TotalMacs < network.Graph.TotalMacs);
        return (network, pruned);
    }

    private static void AssertSameOutputs(INetwork masked, INetwork pruned, int batch, int seed)
    {
        var input = Numerics.Numerics.RandomInput(batch * masked.InputSize, seed);
        var expected = new float[batch * masked.OutputSize];
        var actual = new float[batch * pruned.OutputSize];
        masked.Forward(input, expected, batch);
        pruned.Forward(input, actual, batch);
        Assert.Contains(expected, v => v != 0);
        Numerics.Numerics.AssertClose(actual, expected, $"{pruned.GetType().Name} vs masked {masked.GetType().Name}", Tolerance);
    }
}
