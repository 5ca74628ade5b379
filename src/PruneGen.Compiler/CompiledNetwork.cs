using System;
using System.Globalization;
using System.Reflection;
using System.Text;
using PruneGen.IO;
using PruneGen.Model;
using PruneGen.Model.Pruning;

namespace PruneGen.Compiler;

/// <summary>
/// A pruned network compiled at run time by <see cref="PrunedNetworkCompiler"/>: the loaded class (every pruned
/// width a constant, its own smaller forward and backward passes), the C# the generator wrote for it, and the
/// compiled assembly. Create as many instances as needed with <see cref="Create"/>; they take weights sliced by
/// <c>PlanSlicer.Slice(network, plan).CopyTo(instance.Parameters)</c>.
/// </summary>
public sealed class CompiledNetwork
{
    private readonly byte[] _image;

    internal CompiledNetwork(Type type, Type baseNetwork, PruningPlan plan, string declaration, string source, byte[] image, TimeSpan compileTime)
    {
        Type = type;
        BaseNetwork = baseNetwork;
        Plan = plan;
        Declaration = declaration;
        Source = source;
        _image = image;
        CompileTime = compileTime;
        Graph = PrunedNetworkCompiler.StaticGraph(type)
            ?? throw new InvalidOperationException($"The compiled class '{type.FullName}' has no static Graph property; the generator and PruneGen.Compiler do not match.");
    }

    /// <summary>The compiled pruned class (in its own assembly, loaded in its own load context that shares PruneGen with the caller).</summary>
    public Type Type { get; }

    /// <summary>The network the plan prunes.</summary>
    public Type BaseNetwork { get; }

    /// <summary>The plan the class was compiled from.</summary>
    public PruningPlan Plan { get; }

    /// <summary>The pruned network's graph (the class's static <c>Graph</c>): pruned shapes, MACs and parameters.</summary>
    public NetworkGraph Graph { get; }

    /// <summary>
    /// The declaration that was compiled: <c>[PrunedNetwork(typeof(Base), "plan.json")] public partial class X;</c>.
    /// Put it in a project with the plan as an AdditionalFiles item and the build-time generator writes <see cref="Source"/>.
    /// </summary>
    public string Declaration { get; }

    /// <summary>
    /// The C# the PruneGen generator wrote for the pruned class: the whole class, with a summary table of its
    /// layers ("from N" where pruning narrowed them). It is the same text the build-time generator writes for
    /// <see cref="Declaration"/>, and compiles on its own in any project that references PruneGen.
    /// </summary>
    public string Source { get; }

    /// <summary>Time from the call to <see cref="PrunedNetworkCompiler.Compile(Type, PruningPlan, PrunedNetworkCompilerOptions)"/> to the loaded type: generator, C# compilation, emit and load.</summary>
    public TimeSpan CompileTime { get; }

    /// <summary>Size in bytes of the compiled assembly.</summary>
    public int AssemblySize => _image.Length;

    /// <summary>A new instance of the pruned network (zero weights; load sliced or trained weights into its <see cref="INetwork.Parameters"/>).</summary>
    public ITrainableNetwork Create() => (ITrainableNetwork)(Activator.CreateInstance(Type)
        ?? throw new InvalidOperationException($"Could not create an instance of '{Type.FullName}'."));

    /// <summary>Writes the compiled assembly to <paramref name="path"/> atomically (temporary file, then rename).</summary>
    public void SaveAssembly(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.Write(path, s => s.Write(_image));
    }

    /// <summary>Writes <see cref="Source"/> to <paramref name="path"/> (UTF-8) atomically.</summary>
    public void SaveSource(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = Encoding.UTF8.GetBytes(Source);
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Type.FullName}: {Graph.TotalMacs:N0} MACs, {Graph.TotalParameters:N0} parameters, compiled in {CompileTime.TotalSeconds:F2} s");
}
