extern alias deploy;

using System.Reflection;
using PruneGen.Checkpoints;
using PruneGen.Data;
using PruneGen.Tests.Data;
using DeployedVgg = deploy::PruneGen.Deploy.VggNetL1Half;
using DeployedVggBase = deploy::PruneGen.Examples.Networks.VggNet;
using TrainableVgg = PruneGen.Examples.Networks.VggNetL1Half;

namespace PruneGen.Tests.Deploy;

/// <summary>
/// The deployable sample's inference assembly (examples/PruneGen.Deploy/PruneGen.Deploy.VggNetL1Half): it references
/// no training code, its generated network has no training members, its embedded weights load, and it computes
/// exactly what the training-side class compiled from the same plan computes with the same weights.
/// </summary>
public class InferenceAssemblyTests
{
    private static readonly Assembly Library = typeof(DeployedVgg).Assembly;

    [Fact]
    public void TheLibraryReferencesTheRuntimeAndTheFrameworkOnly()
    {
        var references = Library.GetReferencedAssemblies().Select(a => a.Name!).Order(StringComparer.Ordinal).ToList();
        Assert.Contains("PruneGen.Runtime", references);
        Assert.DoesNotContain("PruneGen", references);
        Assert.All(references, name => Assert.True(name == "PruneGen.Runtime" || name == "System.Runtime" || name.StartsWith("System.", StringComparison.Ordinal),
            $"unexpected reference {name} (all: {string.Join(", ", references)})"));
    }

    [Fact]
    public void TheRuntimeReferencesNoTrainingAssembly()
    {
        var references = typeof(INetwork).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.All(references, name => Assert.True(name.StartsWith("System.", StringComparison.Ordinal), $"PruneGen.Runtime references {name}"));
    }

    [Fact]
    public void TheGeneratedNetworksAreInferenceOnly()
    {
        foreach (var type in new[] { typeof(DeployedVgg), typeof(DeployedVggBase) })
        {
            Assert.True(typeof(INetwork).IsAssignableFrom(type));
            Assert.False(typeof(ITrainableNetwork).IsAssignableFrom(type));
            var members = type.GetMembers(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static).Select(m => m.Name).ToHashSet();
            Assert.Contains("Forward", members);
            Assert.Contains("LoadEmbedded", members);
            Assert.DoesNotContain("TrainForward", members);
            Assert.DoesNotContain("Backward", members);
            Assert.DoesNotContain("_trainingWorkspace", members);
        }
    }

    [Fact]
    public void EmbeddedWeights_ComputeWhatTheTrainableClassComputes_WithTheSameFile()
    {
        var deployed = DeployedVgg.LoadEmbedded();
        Assert.All(deployed.Parameters, p => Assert.Contains(p.Data, v => v != 0f));

        var trainable = new TrainableVgg();
        Checkpoint.Load(trainable, Path.Combine(DataTestSupport.RepositoryRoot, "examples", "PruneGen.Deploy", "PruneGen.Deploy.VggNetL1Half", "Weights", "VggNetL1Half.safetensors"));

        var test = FashionMnist.LoadEmbeddedSubset().Test.Slice(0, 256);
        var a = new float[test.Count * DeployedVgg.OutputSize];
        var b = new float[test.Count * TrainableVgg.OutputSize];
        deployed.Forward(test.Images, a, test.Count);
        trainable.Forward(test.Images, b, test.Count);
        Assert.Equal(b, a);

        var correct = 0;
        for (var i = 0; i < test.Count; i++)
        {
            var row = a.AsSpan(i * 10, 10);
            correct += row.IndexOf(TensorMax(row)) == test.Labels[i] ? 1 : 0;
        }

        Assert.True(correct >= 0.85 * test.Count, $"{correct}/{test.Count} correct with the embedded weights");
    }

    [Fact]
    public void AMissingResource_IsNamed_WithTheLineThatEmbedsIt()
    {
        // The base's weights are embedded only in a build with -p:BaseWeights=…; by default the resource is missing.
        if (Library.GetManifestResourceNames().Contains(DeployedVggBase.EmbeddedWeightsResource))
        {
            Assert.NotNull(DeployedVggBase.LoadEmbedded());
            return;
        }

        var e = Assert.Throws<FileNotFoundException>(() => DeployedVggBase.LoadEmbedded());
        Assert.Equal("VggNet.safetensors", e.FileName);
        Assert.Contains("has no manifest resource 'VggNet.safetensors' (it has 'VggNetL1Half.safetensors')", e.Message, StringComparison.Ordinal);
        Assert.Contains("<EmbeddedResource Include=\"path/to/weights.safetensors\" LogicalName=\"VggNet.safetensors\" />", e.Message, StringComparison.Ordinal);
    }

    private static float TensorMax(ReadOnlySpan<float> row) => System.Numerics.Tensors.TensorPrimitives.Max(row);
}
