using System.Reflection;
using PruneGen.Examples.Networks;
using PruneGen.Kernels;
using PruneGen.Model;

namespace PruneGen.Tests.Numerics;

/// <summary>
/// The generated code sizes each thread's convolution scratch from <see cref="LayerNode.Im2ColLength"/> and
/// <see cref="LayerNode.BackwardScratchLength"/> (model formulas the generator shares), while the kernels carve it up by
/// their own <c>ScratchLength</c> / <c>BackwardScratchLength</c>. The forward kernel refuses a short scratch; the backward
/// one would write past it. So the two must agree for every convolution shape the generator emits: here, every
/// <c>KernelShapes</c> struct of every generated network in the reference and test assemblies, against the graph layer
/// with the same dimensions.
/// </summary>
public class ScratchLengthTests
{
    [Fact]
    public void KernelScratchMatchesTheModelForEveryGeneratedConvolution()
    {
        var checkedShapes = 0;
        foreach (var network in new[] { typeof(VggNet).Assembly, typeof(ScratchLengthTests).Assembly }.SelectMany(a => a.GetTypes()))
        {
            if (network.GetProperty("Graph", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) is not NetworkGraph graph
                || network.GetNestedType("KernelShapes", BindingFlags.NonPublic) is not { } shapes)
            {
                continue;
            }

            foreach (var shape in shapes.GetNestedTypes().Where(t => typeof(IConv2DShape).IsAssignableFrom(t)))
            {
                int Dim(string name) => (int)shape.GetProperty(name, BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
                var layer = graph.Layers.FirstOrDefault(l => l.Kind == LayerKind.Conv2D
                    && l.InputShape.Channels == Dim(nameof(IConv2DShape.InChannels)) && l.InputShape.Height == Dim(nameof(IConv2DShape.InHeight))
                    && l.InputShape.Width == Dim(nameof(IConv2DShape.InWidth)) && l.OutputShape.Channels == Dim(nameof(IConv2DShape.OutChannels))
                    && l.OutputShape.Height == Dim(nameof(IConv2DShape.OutHeight)) && l.OutputShape.Width == Dim(nameof(IConv2DShape.OutWidth))
                    && l.Kernel == Dim(nameof(IConv2DShape.Kernel)) && l.Stride == Dim(nameof(IConv2DShape.Stride))
                    && l.Padding == Dim(nameof(IConv2DShape.Padding)) && l.Groups == Dim(nameof(IConv2DShape.Groups)));
                Assert.True(layer is not null, $"{network.Name}.{shape.Name} matches no Conv2D layer of its graph.");

                var kernel = typeof(Conv2DKernel<>).MakeGenericType(shape);
                int Kernel(string name) => (int)kernel.GetProperty(name, BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
                Assert.True(layer.Im2ColLength == Kernel("ScratchLength"), $"{network.Name}.{layer.Name}: the model's forward scratch is {layer.Im2ColLength} floats, the kernel's {Kernel("ScratchLength")}.");
                Assert.True(layer.BackwardScratchLength == Kernel("BackwardScratchLength"), $"{network.Name}.{layer.Name}: the model's backward scratch is {layer.BackwardScratchLength} floats, the kernel's {Kernel("BackwardScratchLength")}.");
                checkedShapes++;
            }
        }

        // 152 shapes when this was written (reference, pruned, test and training networks: grouped, depthwise, strided,
        // unpadded, 1×1); far fewer means the reflection stopped seeing them.
        Assert.True(checkedShapes >= 100, $"Only {checkedShapes} convolution shapes were found; the reflection no longer sees the generated KernelShapes.");
    }
}
