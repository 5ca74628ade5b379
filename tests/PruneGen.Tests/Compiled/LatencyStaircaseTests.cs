using PruneGen.Compiler;
using PruneGen.Tests.Pruning;

namespace PruneGen.Tests.Compiled;

/// <summary>
/// <see cref="LatencyStaircase"/>: which widths are worth pruning to, and a measurement that compiles one network per
/// width (no timing is asserted: only that each width was compiled, run and timed).
/// </summary>
public sealed class LatencyStaircaseTests
{
    [Fact]
    public void FastWidths_AreTheWidthsFasterThanEveryWiderOne()
    {
        var staircase = new GroupStaircase("conv", 8, 64,
        [
            new(1, 1.0), new(2, 1.0), new(3, 1.5), new(4, 1.5), new(5, 1.505), new(6, 2.0), new(7, 2.0), new(8, 2.0),
        ]);

        // 8 (widest); 7 and 6 are no faster; 5 is; 4 is not >1 % faster than 5; 3 neither; 2 is; 1 ties it.
        Assert.Equal([2, 5, 8], staircase.FastWidths());
        Assert.Equal([2, 4, 5, 8], staircase.FastWidths(tolerance: 0)); // 4 is 0.3 % faster than 5
    }

    [Fact]
    public void Measure_CompilesAndTimesTheNetworkAtEachWidth()
    {
        var staircase = LatencyStaircase.Measure(typeof(PrVgg), "conv2", [8, 3, 5, 5], batch: 2, samples: 1, warmUp: TimeSpan.Zero);

        Assert.Equal(("conv2", 8, 2), (staircase.Group, staircase.BaseChannels, staircase.Batch));
        Assert.Equal([3, 5, 8], staircase.Points.Select(p => p.Channels));
        Assert.All(staircase.Points, p => Assert.True(p.Milliseconds > 0 && double.IsFinite(p.Milliseconds)));
        Assert.Contains(8, staircase.FastWidths()); // the full width always is
    }

    [Fact]
    public void Measure_NamesAnUnknownOrUnprunableGroupAndAnOutOfRangeWidth()
    {
        var unknown = Assert.Throws<ArgumentException>(() => LatencyStaircase.Measure(typeof(PrVgg), "conv9", [2]));
        Assert.Contains("'conv9' is not a channel group of 'PrVgg'; its prunable groups are conv1, conv2, fc1", unknown.Message, StringComparison.Ordinal);
        var logits = Assert.Throws<ArgumentException>(() => LatencyStaircase.Measure(typeof(PrVgg), "logits", [2]));
        Assert.Contains("Group 'logits' of 'PrVgg' cannot be pruned", logits.Message, StringComparison.Ordinal);
        var range = Assert.Throws<ArgumentException>(() => LatencyStaircase.Measure(typeof(PrVgg), "conv1", [7]));
        Assert.Contains("Width 7 of group 'conv1' is outside 1..6", range.Message, StringComparison.Ordinal);
    }
}
