using System.Diagnostics;
using PruneGen.Data;
using Xunit.Abstractions;

namespace PruneGen.Tests.Data;

[Trait("Category", "Data")]
public class BatchIteratorTests(ITestOutputHelper output)
{
    /// <summary>A dataset whose image i has all pixels = i (unit-range normalization: value i/255), label i % 10.</summary>
    private static Dataset Numbered(int count, int channels = 1, int height = 4, int width = 4)
    {
        var size = channels * height * width;
        var pixels = new byte[count * size];
        var labels = new byte[count];
        for (var i = 0; i < count; i++)
        {
            pixels.AsSpan(i * size, size).Fill((byte)i);
            labels[i] = (byte)(i % 10);
        }

        return Dataset.FromPixels("numbered", pixels, labels, channels, height, width, 10, Normalization.UnitRange);
    }

    /// <summary>All batches of one epoch, concatenated.</summary>
    private static (float[] Images, int[] Labels) Epoch(BatchIterator iterator, int epoch)
    {
        iterator.StartEpoch(epoch);
        var x = iterator.CreateImageBuffer();
        var y = iterator.CreateLabelBuffer();
        var images = new List<float>();
        var labels = new List<int>();
        int n;
        while ((n = iterator.Next(x, y)) > 0)
        {
            images.AddRange(x.AsSpan(0, n * iterator.SampleSize).ToArray());
            labels.AddRange(y.AsSpan(0, n).ToArray());
        }

        return ([.. images], [.. labels]);
    }

    [Fact]
    public void WithoutShufflingBatchesAreTheDatasetInOrder()
    {
        var data = Numbered(10);
        var iterator = new BatchIterator(data, 4);
        Assert.Equal(3, iterator.BatchesPerEpoch);
        var x = iterator.CreateImageBuffer();
        var y = iterator.CreateLabelBuffer();
        Assert.Equal(4, iterator.Next(x, y));
        Assert.Equal(4, iterator.Next(x, y));
        Assert.Equal(2, iterator.Next(x, y));
        Assert.Equal([8, 9], y[..2]);
        Assert.Equal(data.Images.AsSpan(8 * 16, 32).ToArray(), x[..32]);
        Assert.Equal(0, iterator.Next(x, y));
        Assert.Equal(0, iterator.Next(x, y));

        var dropLast = new BatchIterator(data, 4, BatchIteratorOptions.Evaluation with { DropLast = true });
        Assert.Equal(2, dropLast.BatchesPerEpoch);
        Assert.Equal(8, Epoch(dropLast, 0).Labels.Length);

        Assert.Throws<ArgumentException>(() => iterator.Next(new float[10], y));
    }

    [Fact]
    public void ShufflingIsSeededAndNewEachEpoch()
    {
        var data = Numbered(200);
        var options = new BatchIteratorOptions { Shuffle = true, Seed = 42 };
        var a = new BatchIterator(data, 16, options);
        var b = new BatchIterator(data, 16, options);
        var epoch0 = Epoch(a, 0);
        Assert.Equal(epoch0.Images, Epoch(b, 0).Images);
        Assert.Equal(epoch0.Labels, Epoch(b, 0).Labels);

        // Each epoch is a permutation of all samples, different from file order and from the other epochs.
        var order0 = a.Order.ToArray();
        Assert.Equal(Enumerable.Range(0, 200), order0.Order());
        Assert.NotEqual(Enumerable.Range(0, 200), order0);
        a.StartEpoch(1);
        Assert.NotEqual(order0, a.Order.ToArray());

        // Replaying an epoch alone (e.g. after resuming) gives the same order.
        b.StartEpoch(5);
        var order5 = b.Order.ToArray();
        a.StartEpoch(3);
        a.StartEpoch(5);
        Assert.Equal(order5, a.Order.ToArray());

        var otherSeed = new BatchIterator(data, 16, options with { Seed = 43 });
        Assert.NotEqual(order0, otherSeed.Order.ToArray());

        // The order is fixed by the seed on every platform (SplitMix64, not System.Random): pin the start.
        // Values computed once from the implementation and checked in: a change here changes every seeded run.
        Assert.Equal("68, 159, 96, 1, 115, 20, 164, 133", string.Join(", ", order0[..8]));
    }

    [Fact]
    public void AugmentationIsSeededAndIndependentOfTheBatchSize()
    {
        var data = FashionMnistLike(64);
        var options = BatchIteratorOptions.Training(seed: 7);
        var small = Epoch(new BatchIterator(data, 5, options), 2);
        var large = Epoch(new BatchIterator(data, 32, options), 2);
        Assert.Equal(small.Images, large.Images);
        Assert.Equal(small.Labels, large.Labels);

        var otherEpoch = Epoch(new BatchIterator(data, 32, options), 3);
        Assert.NotEqual(small.Images, otherEpoch.Images);

        // The iterator's output is exactly CropAndFlip with the offsets it reports.
        var iterator = new BatchIterator(data, 64, options);
        iterator.StartEpoch(2);
        var expected = new float[data.SampleSize];
        for (var p = 0; p < 64; p++)
        {
            var (dx, dy, flip) = iterator.AugmentationAt(p);
            Assert.InRange(dx, -2, 2);
            Assert.InRange(dy, -2, 2);
            Augmentation.CropAndFlip(data.Image(iterator.Order[p]), expected, 1, 28, 28, dx, dy, flip, data.PaddingValue);
            Assert.Equal(expected, small.Images.AsSpan(p * data.SampleSize, data.SampleSize).ToArray());
        }
    }

    [Fact]
    public void AugmentationDrawsEveryOffsetAndFlipsAboutHalf()
    {
        var iterator = new BatchIterator(Numbered(4000), 100, BatchIteratorOptions.Training(seed: 3));
        var offsets = new HashSet<(int, int)>();
        var flips = 0;
        for (var p = 0; p < 4000; p++)
        {
            var (dx, dy, flip) = iterator.AugmentationAt(p);
            offsets.Add((dx, dy));
            flips += flip ? 1 : 0;
        }

        Assert.Equal(25, offsets.Count);
        Assert.InRange(flips, 1800, 2200);
    }

    [Fact]
    public void CropAndFlipOnAHandMadeImage()
    {
        // 1 channel, 3 rows × 4 columns:
        //  1  2  3  4
        //  5  6  7  8
        //  9 10 11 12
        float[] image = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        var result = new float[12];
        const float P = -1; // the padding value

        Augmentation.CropAndFlip(image, result, 1, 3, 4, 0, 0, false, P);
        Assert.Equal(image, result);

        // Window moved right by 1: content shifts left, padding enters on the right.
        Augmentation.CropAndFlip(image, result, 1, 3, 4, 1, 0, false, P);
        Assert.Equal([2, 3, 4, P, 6, 7, 8, P, 10, 11, 12, P], result);

        // Window moved up-left by (−2, −1): content shifts right 2 and down 1.
        Augmentation.CropAndFlip(image, result, 1, 3, 4, -2, -1, false, P);
        Assert.Equal([P, P, P, P, P, P, 1, 2, P, P, 5, 6], result);

        // Flip only: each row reversed.
        Augmentation.CropAndFlip(image, result, 1, 3, 4, 0, 0, true, P);
        Assert.Equal([4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9], result);

        // Crop then flip: window down 1 and right 1, then mirrored.
        Augmentation.CropAndFlip(image, result, 1, 3, 4, 1, 1, true, P);
        Assert.Equal([P, 8, 7, 6, P, 12, 11, 10, P, P, P, P], result);

        // Offsets as large as the image: all padding.
        Augmentation.CropAndFlip(image, result, 1, 3, 4, 4, 0, false, P);
        Assert.All(result, v => Assert.Equal(P, v));

        // Two channels get the same crop and flip.
        float[] two = [.. image, .. image.Select(v => v + 100)];
        var twoResult = new float[24];
        Augmentation.CropAndFlip(two, twoResult, 2, 3, 4, 1, 1, true, P);
        Assert.Equal([P, 8, 7, 6, P, 12, 11, 10, P, P, P, P, P, 108, 107, 106, P, 112, 111, 110, P, P, P, P], twoResult);
    }

    [Fact]
    public void PaddingIsBlackAfterNormalization()
    {
        var data = FashionMnistLike(1);
        Assert.Equal(FashionMnist.Normalization.Apply(0), data.PaddingValue);
        Assert.Equal(-FashionMnist.Mean / FashionMnist.Std, data.PaddingValue, 1e-6f);
    }

    [Fact]
    public void BatchesAllocateNothing()
    {
        var data = FashionMnistLike(300);
        var iterator = new BatchIterator(data, 32, BatchIteratorOptions.Training(seed: 1));
        var x = iterator.CreateImageBuffer();
        var y = iterator.CreateLabelBuffer();
        Epoch(iterator, 0); // warm up (JIT)
        iterator.StartEpoch(1);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var total = 0;
        for (var epoch = 1; epoch <= 3; epoch++)
        {
            iterator.StartEpoch(epoch);
            int n;
            while ((n = iterator.Next(x, y)) > 0)
            {
                total += n;
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(900, total);
    }

    [Fact]
    public void AnAugmentedEpochOfTheEmbeddedSubsetIsFast()
    {
        var train = FashionMnist.LoadEmbeddedSubset().Train;
        var iterator = new BatchIterator(train, 128, BatchIteratorOptions.Training(seed: 1));
        var x = iterator.CreateImageBuffer();
        var y = iterator.CreateLabelBuffer();
        var stopwatch = Stopwatch.StartNew();
        var batches = 0;
        while (iterator.Next(x, y) > 0)
        {
            batches++;
        }

        output.WriteLine($"One augmented epoch of {train.Count} images at batch 128 ({batches} batches): {stopwatch.Elapsed.TotalMilliseconds:F1} ms");
        Assert.Equal(47, batches);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2));
    }

    [RequiresFashionMnistFact]
    public void AnAugmentedEpochOfTheFullTrainingSetIsFast()
    {
        var train = FashionMnist.LoadDirectory(FashionMnist.SystemDirectory).Train;
        var iterator = new BatchIterator(train, 128, BatchIteratorOptions.Training(seed: 1));
        var x = iterator.CreateImageBuffer();
        var y = iterator.CreateLabelBuffer();
        var stopwatch = Stopwatch.StartNew();
        var batches = 0;
        while (iterator.Next(x, y) > 0)
        {
            batches++;
        }

        output.WriteLine($"One augmented epoch of {train.Count} images at batch 128 ({batches} batches): {stopwatch.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(469, batches);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5));
    }

    private static Dataset FashionMnistLike(int count)
    {
        var pixels = new byte[count * 784];
        var labels = new byte[count];
        var random = new Random(5);
        random.NextBytes(pixels);
        for (var i = 0; i < count; i++)
        {
            labels[i] = (byte)(i % 10);
        }

        return Dataset.FromPixels("random", pixels, labels, 1, 28, 28, 10, FashionMnist.Normalization);
    }
}
