using PruneGen.Data;

namespace PruneGen.Tests.Data;

[Trait("Category", "Data")]
public class DatasetTests
{
    [Fact]
    public void InconsistentSizesAndLabelsAreRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new Dataset("d", new float[10], [1, 2], 1, 2, 2, 10, Normalization.UnitRange));
        Assert.Contains("2 labels need 2 × 1×2×2 = 8 image floats, but 10 were given", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Dataset("d", new float[8], [1, 10], 1, 2, 2, 10, Normalization.UnitRange));
        Assert.Contains("label 10 at index 1 is out of range; labels must be 0–9", e.Message);
    }

    [Fact]
    public void SliceCopiesARange()
    {
        var data = Dataset.FromPixels("d", [0, 0, 255, 255, 51, 51], [0, 1, 2], 1, 1, 2, 3, Normalization.UnitRange);
        var slice = data.Slice(1, 2);
        Assert.Equal(2, slice.Count);
        Assert.Equal([1f, 1f, Normalization.UnitRange.Apply(51), Normalization.UnitRange.Apply(51)], slice.Images);
        Assert.Equal(0.2f, slice.Images[2], 1e-6f);
        Assert.Equal([1, 2], slice.Labels);
        Assert.Equal([1f, 1f], data.Image(1).ToArray());
        Assert.Equal([1, 1, 1], data.ClassHistogram());
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Slice(2, 2));
    }

    [Fact]
    public void VectorizedAndScalarNormalizationAgree()
    {
        var pixels = Enumerable.Range(0, 1000).Select(i => (byte)(i * 37)).ToArray();
        var values = new float[pixels.Length];
        FashionMnist.Normalization.Apply(pixels, values);
        for (var i = 0; i < pixels.Length; i++)
        {
            Assert.Equal(FashionMnist.Normalization.Apply(pixels[i]), values[i]);
        }
    }
}
