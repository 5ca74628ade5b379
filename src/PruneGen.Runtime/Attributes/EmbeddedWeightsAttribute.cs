using System;

namespace PruneGen;

/// <summary>
/// Ships a network's weights inside its assembly: the source generator adds
/// <c>public static TNetwork LoadEmbedded()</c> to the <c>[Network]</c> or <c>[PrunedNetwork]</c> class, which
/// reads the safetensors manifest resource named <see cref="ResourceName"/> from the class's own assembly
/// (<c>typeof(TNetwork).Assembly.GetManifestResourceStream</c>: no reflection over members, safe to trim and to
/// compile with NativeAOT) and loads it with the strict checkpoint loader (every parameter present with its exact
/// shape, nothing extra). A missing resource, a malformed file or a shape mismatch throws an exception that
/// names the resource.
/// </summary>
/// <remarks>
/// Embed the file under exactly that name in the project that declares the class:
/// <code>
/// &lt;ItemGroup&gt;
///   &lt;EmbeddedResource Include="Weights/VggNetL1Half.safetensors" LogicalName="VggNetL1Half.safetensors" /&gt;
/// &lt;/ItemGroup&gt;
/// </code>
/// Without <c>LogicalName</c>, MSBuild names the resource <c>RootNamespace.Folder.File</c>
/// (e.g. <c>MyLib.Weights.VggNetL1Half.safetensors</c>); the name in the attribute must be that one.
/// </remarks>
/// <example>
/// <code>
/// [PrunedNetwork(typeof(VggNet), "Plans/vgg.l1.2x.plan.json")]
/// [EmbeddedWeights("VggNetL1Half.safetensors")]
/// public partial class VggNetL1Half;
///
/// var net = VggNetL1Half.LoadEmbedded();
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class EmbeddedWeightsAttribute : Attribute
{
    /// <summary>Embeds the weights stored in the manifest resource <paramref name="resourceName"/>.</summary>
    /// <param name="resourceName">The manifest resource's name, i.e. the <c>LogicalName</c> of its <c>EmbeddedResource</c> item.</param>
    public EmbeddedWeightsAttribute(string resourceName) => ResourceName = resourceName;

    /// <summary>The manifest resource holding the weights (a safetensors file).</summary>
    public string ResourceName { get; }
}
