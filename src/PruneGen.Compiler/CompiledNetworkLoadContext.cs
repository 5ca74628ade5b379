using System.Reflection;
using System.Runtime.Loader;

namespace PruneGen.Compiler;

/// <summary>
/// The load context of one compiled pruned network. It resolves PruneGen and the base network's assembly to the
/// very assemblies the caller uses (the generated class implements the caller's <see cref="ITrainableNetwork"/>
/// and instantiates the caller's generic kernels), and everything else through the context PruneGen came from.
/// A context of its own lets a process compile the same class name more than once (the default context holds
/// one assembly per name). Not collectible: the JIT treats statics of collectible assemblies less well, and the
/// kernels read their shape constants through generic instantiations over the compiled structs.
/// </summary>
internal sealed class CompiledNetworkLoadContext(string name, Assembly runtime, Assembly baseAssembly)
    : AssemblyLoadContext(name, isCollectible: false)
{
    private readonly AssemblyLoadContext _runtimeContext = GetLoadContext(runtime) ?? Default;

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (AssemblyName.ReferenceMatchesDefinition(assemblyName, runtime.GetName()))
        {
            return runtime;
        }

        // The inference runtime (INetwork, kernels) lives in its own assembly under the training library.
        if (AssemblyName.ReferenceMatchesDefinition(assemblyName, typeof(INetwork).Assembly.GetName()))
        {
            return typeof(INetwork).Assembly;
        }

        if (AssemblyName.ReferenceMatchesDefinition(assemblyName, baseAssembly.GetName()))
        {
            return baseAssembly;
        }

        return ReferenceEquals(_runtimeContext, Default) ? null : _runtimeContext.LoadFromAssemblyName(assemblyName);
    }
}
