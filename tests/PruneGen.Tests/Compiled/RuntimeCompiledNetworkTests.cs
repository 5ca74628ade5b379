using System.Reflection;
using System.Reflection.PortableExecutable;
using PruneGen.Compiler;
using PruneGen.Model.Pruning;
using PruneGen.Pruning;
using PruneGen.Training;

namespace PruneGen.Tests.Compiled;

/// <summary>
/// The two plans of <see cref="CompiledPrunedNetworkTests"/>, compiled at run time once per test class (a Roslyn
/// compile costs seconds). The VGG is compiled with the names the build uses for <see cref="CompiledVggPruned"/>,
/// so its source can be compared with the build-time generator's; the ResNet with the default names.
/// </summary>
public sealed class RuntimeCompiledFixture
{
    public RuntimeCompiledFixture()
    {
        VggPlan = PlanFile.Read(RuntimeCompiledNetworkTests.PlanPath("vgg.plan.json"));
        ResNetPlan = PlanFile.Read(RuntimeCompiledNetworkTests.PlanPath("res.plan.json"));
        Vgg = PrunedNetworkCompiler.Compile(typeof(CompiledVgg), VggPlan, new PrunedNetworkCompilerOptions
        {
            Namespace = "PruneGen.Tests.Compiled",
            ClassName = nameof(CompiledVggPruned),
            PlanPath = "Compiled/Plans/vgg.plan.json",
        });
        ResNet = PrunedNetworkCompiler.Compile(typeof(CompiledResNet), ResNetPlan);
    }

    public PruningPlan VggPlan { get; }

    public PruningPlan ResNetPlan { get; }

    public CompiledNetwork Vgg { get; }

    public CompiledNetwork ResNet { get; }
}

/// <summary>
/// <see cref="PrunedNetworkCompiler"/>: a plan compiled while the program runs is the network the build-time
/// generator emits for the same plan (same source text, same outputs and gradients), computes what the masked
/// base computes, takes <see cref="PlanSlicer"/>'s weights, trains, and reports a bad plan with its problem.
/// </summary>
public class RuntimeCompiledNetworkTests(RuntimeCompiledFixture compiled) : IClassFixture<RuntimeCompiledFixture>
{
    private const double Tolerance = 1e-5;

    [Fact]
    public void Vgg_Forward_EqualsMaskedBase_AndTheBuildTimeClass()
    {
        INetwork network = new CompiledVgg();
        Numerics.Numerics.Randomize(network, 21);
        var runtime = compiled.Vgg.Create();
        var buildTime = new CompiledVggPruned();
        PlanSlicer.Slice(network, compiled.VggPlan).CopyTo(runtime.Parameters);
        PlanSlicer.Slice(network, compiled.VggPlan).CopyTo(buildTime.Parameters);
        PruningMask.Create(network.Graph, compiled.VggPlan).Apply(network.Parameters);

        Assert.NotEqual(typeof(CompiledVggPruned), runtime.GetType());
        Assert.Equal(CompiledVggPruned.Graph, runtime.Graph);
        Assert.Equal(CompiledVggPruned.Graph, compiled.Vgg.Graph);
        var input = Numerics.Numerics.RandomInput(3 * network.InputSize, 31);
        var masked = Forward(network, input, 3);
        Assert.Contains(masked, v => v != 0);
        Numerics.Numerics.AssertClose(Forward(runtime, input, 3), masked, "run-time compiled VGG vs masked base", Tolerance);
        Numerics.Numerics.AssertClose(Forward(runtime, input, 3), Forward(buildTime, input, 3), "run-time vs build-time compiled VGG", Tolerance);
    }

    [Fact]
    public void ResNet_WithARemovedBlock_Forward_EqualsMaskedBase_AndTheBuildTimeClass()
    {
        INetwork network = new CompiledResNet();
        Numerics.Numerics.Randomize(network, 22);
        var runtime = compiled.ResNet.Create();
        var buildTime = new CompiledResNetPruned();
        var sliced = PlanSlicer.Slice(network, compiled.ResNetPlan);
        sliced.CopyTo(runtime.Parameters);
        sliced.CopyTo(buildTime.Parameters);
        PruningMask.Create(network.Graph, compiled.ResNetPlan).Apply(network.Parameters);

        Assert.Equal("PruneGen.Compiled.CompiledResNetPruned", compiled.ResNet.Type.FullName);
        Assert.DoesNotContain(runtime.Graph.Layers, l => l.Block == "b2");
        Assert.True(runtime.Graph.TotalMacs < network.Graph.TotalMacs);
        var input = Numerics.Numerics.RandomInput(4 * network.InputSize, 32);
        Numerics.Numerics.AssertClose(Forward(runtime, input, 4), Forward(network, input, 4), "run-time compiled ResNet vs masked base", Tolerance);
        Numerics.Numerics.AssertClose(Forward(runtime, input, 4), Forward(buildTime, input, 4), "run-time vs build-time compiled ResNet", Tolerance);
    }

    [Fact]
    public void Source_IsTheTextTheBuildTimeGeneratorWrites()
    {
        var directory = typeof(RuntimeCompiledNetworkTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "PruneGen.GeneratedFiles").Value!;
        var path = Path.Combine(directory, "PruneGen.Generators", "PruneGen.Generators.NetworkGenerator", "PruneGen.Tests.Compiled.CompiledVggPruned.PruneGen.g.cs");
        Assert.True(File.Exists(path), $"The build-time generator's output is missing: {path}");

        Assert.Equal(File.ReadAllText(path), compiled.Vgg.Source);
        Assert.Contains("[global::PruneGen.PrunedNetwork(typeof(global::PruneGen.Tests.Compiled.CompiledVgg), \"Compiled/Plans/vgg.plan.json\")]", compiled.Vgg.Declaration, StringComparison.Ordinal);
        Assert.Contains("public partial class CompiledVggPruned;", compiled.Vgg.Declaration, StringComparison.Ordinal);
    }

    [Fact]
    public void Backward_GivesTheBuildTimeClassGradients_AndAnSgdStepReducesTheLoss()
    {
        var network = new CompiledVgg();
        Numerics.Numerics.Randomize(network, 23);
        var runtime = compiled.Vgg.Create();
        var buildTime = new CompiledVggPruned();
        PlanSlicer.Slice(network, compiled.VggPlan).CopyTo(runtime.Parameters);
        PlanSlicer.Slice(network, compiled.VggPlan).CopyTo(buildTime.Parameters);
        const int Batch = 8;
        var input = Numerics.Numerics.RandomInput(Batch * runtime.InputSize, 33);
        var labels = Enumerable.Range(0, Batch).Select(i => i % runtime.OutputSize).ToArray();

        var before = Step(runtime, input, labels, Batch);
        Step(buildTime, input, labels, Batch);
        for (var i = 0; i < runtime.Parameters.Count; i++)
        {
            Numerics.Numerics.AssertClose(runtime.Parameters[i].Gradient, buildTime.Parameters[i].Gradient, "gradient of " + runtime.Parameters[i].Name, Tolerance);
        }

        Assert.Contains(runtime.Parameters, p => p.Gradient.Any(g => g != 0));
        new Sgd(runtime.Parameters, momentum: 0f, nesterov: false).Update(0.05f);
        var after = Step(runtime, input, labels, Batch);
        Assert.True(after < before, $"loss {before} → {after} after one SGD step");
    }

    [Fact]
    public void InvalidPlan_ThrowsWithEveryProblemNamed()
    {
        var plan = PlanFile.Parse(
            PlanFile.ToJson(compiled.VggPlan).Replace("\"channels\": 8", "\"channels\": 9", StringComparison.Ordinal),
            "bad.plan.json");
        var error = Assert.Throws<PrunedNetworkCompilationException>(() =>
            PrunedNetworkCompiler.Compile(typeof(CompiledVgg), plan, new PrunedNetworkCompilerOptions { ClassName = "Broken", PlanPath = "bad.plan.json" }));

        var problem = Assert.Single(error.Problems);
        Assert.Equal("PG0033", problem.Id);
        Assert.StartsWith("bad.plan.json(", problem.Location, StringComparison.Ordinal);
        Assert.Contains("groups[0].channels", problem.Message, StringComparison.Ordinal);
        Assert.Contains("has 8 channels", error.Message, StringComparison.Ordinal);
        Assert.Contains("'Broken' of 'PruneGen.Tests.Compiled.CompiledVgg'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ABaseThatIsNotANetwork_OrAPrunedOne_IsRejectedBeforeCompiling()
    {
        var notNetwork = Assert.Throws<ArgumentException>(() => PrunedNetworkCompiler.Compile(typeof(string), compiled.VggPlan));
        Assert.Contains("is not a [Network] class", notNetwork.Message, StringComparison.Ordinal);
        var pruned = Assert.Throws<ArgumentException>(() => PrunedNetworkCompiler.Compile(typeof(CompiledVggPruned), compiled.VggPlan));
        Assert.Contains("is itself a pruned network", pruned.Message, StringComparison.Ordinal);
        var name = Assert.Throws<ArgumentException>(() => PrunedNetworkCompiler.Compile(typeof(CompiledVgg), compiled.VggPlan, "class"));
        Assert.Contains("not a valid C# class name", name.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SaveAssembly_AndSaveSource_WriteWhatWasCompiled()
    {
        var directory = Directory.CreateTempSubdirectory("prunegen-compiler-");
        try
        {
            var dll = Path.Combine(directory.FullName, "CompiledResNetPruned.dll");
            var cs = Path.Combine(directory.FullName, "CompiledResNetPruned.cs");
            compiled.ResNet.SaveAssembly(dll);
            compiled.ResNet.SaveSource(cs);

            Assert.Equal(compiled.ResNet.AssemblySize, new FileInfo(dll).Length);
            using (var reader = new PEReader(File.OpenRead(dll)))
            {
                Assert.True(reader.HasMetadata);
            }

            Assert.Equal(compiled.ResNet.Source, File.ReadAllText(cs));
            Assert.Equal([dll, cs], directory.GetFiles().Select(f => f.FullName).Order(StringComparer.Ordinal).Reverse());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    internal static string PlanPath(string name) => Path.Combine(AppContext.BaseDirectory, "Compiled", "Plans", name);

    private static float[] Forward(INetwork network, float[] input, int batch)
    {
        var output = new float[batch * network.OutputSize];
        network.Forward(input, output, batch);
        return output;
    }

    /// <summary>Training forward, softmax cross-entropy and backward (gradients zeroed first); returns the loss.</summary>
    private static float Step(ITrainableNetwork network, float[] input, int[] labels, int batch)
    {
        network.Parameters.ZeroGradients();
        var logits = network.TrainForward(input, batch);
        var outputGradient = new float[logits.Length];
        var loss = Losses.SoftmaxCrossEntropy(logits, labels, network.OutputSize, outputGradient);
        network.Backward(outputGradient, batch);
        return loss;
    }
}
