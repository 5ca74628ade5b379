using PruneGen.Examples.Networks;
using PruneGen.Kernels;

namespace PruneGen.Tests.Numerics;

/// <summary>After a warm-up call that sizes the workspace, <c>Forward</c> must not allocate at all.</summary>
[Trait("Category", "Numerics")]
public class AllocationTests
{
    public static TheoryData<string, int> Cases
    {
        get
        {
            var data = new TheoryData<string, int>();
            foreach (var n in new[] { nameof(Mlp), nameof(LeNet5), nameof(VggNet), nameof(TinyResNet), nameof(NumResidualConcat), nameof(NumDenseWide), nameof(NumGroupedConv) })
            {
                data.Add(n, 1);
                data.Add(n, 8);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardAllocatesNothingAfterWarmUp(string network, int batch)
    {
        var net = ForwardNumericsTests.Create(network);
        Numerics.Randomize(net, seed: 3);
        var input = Numerics.RandomInput(batch * net.InputSize, seed: 4);
        var output = new float[batch * net.OutputSize];

        // Warm up past the workspaces and tiered compilation (see WarmUpUntilAllocationFree).
        Numerics.WarmUpUntilAllocationFree(() =>
        {
            net.Forward(input, output, batch);
            net.Forward(input, output, 1);
        });

        var allocated = Numerics.FewestAllocatedBytes(() => net.Forward(input, output, batch));
        Assert.True(allocated == 0, $"{network}.Forward at batch {batch} (SIMD {Simd.Level}) allocated {allocated} bytes after warm-up.");

        // A smaller batch reuses the larger workspace.
        allocated = Numerics.FewestAllocatedBytes(() =>
        {
            net.Forward(input, output, batch);
            net.Forward(input, output, 1);
        });
        Assert.True(allocated == 0, $"{network}.Forward at batch {batch}, then at batch 1 (SIMD {Simd.Level}), allocated {allocated} bytes.");
    }
}
