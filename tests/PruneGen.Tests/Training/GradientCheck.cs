using PruneGen.Model;
using PruneGen.Tests.Reference;

namespace PruneGen.Tests.Training;

/// <summary>
/// The two links of the backward-pass proof:
/// (1) the double-precision reference backward agrees with central finite differences of the
///     reference forward (in double, so neither float32 rounding nor kinks blur the check), and
/// (2) the generated float32 backward agrees with the reference backward, tensor by tensor.
/// The loss is a fixed random projection of the output, L = Σ r·y, so ∂L/∂y = r.
/// </summary>
internal static class GradientCheck
{
    private const ulong DropoutSeed = 12345;

    /// <summary>Random weights, non-trivial BatchNorm parameters and statistics, an input and a projection.</summary>
    public static (float[] Input, float[] Projection) Prepare(ITrainableNetwork net, int batch, int seed)
    {
        var random = new Random(seed);
        Initializer.HeUniform(net, seed);
        foreach (var layer in net.Graph.Layers)
        {
            foreach (var spec in layer.Parameters)
            {
                var data = net.Parameters[spec.Name].Data;
                var suffix = spec.Name[(spec.Name.LastIndexOf('.') + 1)..];
                if (layer.Kind == LayerKind.BatchNorm || suffix == "bias")
                {
                    for (var i = 0; i < data.Length; i++)
                    {
                        data[i] = suffix switch
                        {
                            "weight" or "running_var" => 0.5f + (float)random.NextDouble(),
                            _ => (float)(random.NextDouble() - 0.5),
                        };
                    }
                }
            }
        }

        var input = Enumerable.Range(0, batch * net.InputSize).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        var projection = Enumerable.Range(0, batch * net.OutputSize).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        return (input, projection);
    }

    /// <summary>Link (1), entry by entry on up to <paramref name="samplesPerTensor"/> entries of every trainable tensor.</summary>
    public static void AssertReferenceMatchesFiniteDifferences(ITrainableNetwork net, int batch, int seed, int samplesPerTensor = 4)
    {
        var (input, projection) = Prepare(net, batch, seed);
        var reference = new DoubleReference(net.Graph, net.Parameters);
        var x = input.Select(v => (double)v).ToArray();
        var r = projection.Select(v => (double)v).ToArray();
        double Loss() => reference.Forward(x, batch, training: true, DropoutSeed).Zip(r, (a, b) => a * b).Sum();

        Loss();
        reference.Backward(r);
        var random = new Random(seed + 1);
        const double step = 1e-6;
        foreach (var p in net.Parameters.Where(p => p.Spec.Trainable))
        {
            var values = reference.Parameters[p.Name];
            var analytic = reference.Gradients[p.Name];
            for (var s = 0; s < Math.Min(samplesPerTensor, values.Length); s++)
            {
                var i = s == 0 ? 0 : random.Next(values.Length);
                var saved = values[i];
                values[i] = saved + step;
                var plus = Loss();
                values[i] = saved - step;
                var minus = Loss();
                values[i] = saved;
                var numeric = (plus - minus) / (2 * step);
                Assert.True(Math.Abs(numeric - analytic[i]) <= 1e-5 * Math.Max(1, Math.Abs(numeric)),
                    $"{net.GetType().Name} {p.Name}[{i}]: reference backward {analytic[i]:G9}, finite difference {numeric:G9}.");
            }
        }
    }

    /// <summary>
    /// Link (1) for a whole network at once: the directional derivative along random directions
    /// over every parameter, ∇L·d, against (L(θ + εd) − L(θ − εd)) / 2ε.
    /// </summary>
    public static void AssertReferenceDirectionalDerivative(ITrainableNetwork net, int batch, int seed, int directions = 2)
    {
        var (input, projection) = Prepare(net, batch, seed);
        var reference = new DoubleReference(net.Graph, net.Parameters);
        var x = input.Select(v => (double)v).ToArray();
        var r = projection.Select(v => (double)v).ToArray();
        double Loss() => reference.Forward(x, batch, training: true, DropoutSeed).Zip(r, (a, b) => a * b).Sum();

        Loss();
        reference.Backward(r);
        var random = new Random(seed + 2);
        var trainable = net.Parameters.Where(p => p.Spec.Trainable).Select(p => p.Name).ToArray();
        for (var k = 0; k < directions; k++)
        {
            var direction = trainable.ToDictionary(n => n, n => reference.Parameters[n].Select(_ => (random.NextDouble() * 2) - 1).ToArray());
            var analytic = trainable.Sum(n => reference.Gradients[n].Zip(direction[n], (g, d) => g * d).Sum());
            // Small, because moving every parameter at once crosses ReLU kinks in proportion to the step.
            const double step = 1e-8;
            void Move(double scale)
            {
                foreach (var n in trainable)
                {
                    var values = reference.Parameters[n];
                    for (var i = 0; i < values.Length; i++)
                    {
                        values[i] += scale * direction[n][i];
                    }
                }
            }

            Move(step);
            var plus = Loss();
            Move(-2 * step);
            var minus = Loss();
            Move(step);
            var numeric = (plus - minus) / (2 * step);
            Assert.True(Math.Abs(numeric - analytic) <= 1e-5 * Math.Max(1, Math.Abs(numeric)),
                $"{net.GetType().Name}: directional derivative from the reference backward {analytic:G9}, finite difference {numeric:G9}.");
        }
    }

    /// <summary>Link (2): the generated training forward and backward against the reference, every output and every gradient entry.</summary>
    public static void AssertGeneratedMatchesReference(ITrainableNetwork net, int batch, int seed)
    {
        var (input, projection) = Prepare(net, batch, seed);
        var reference = new DoubleReference(net.Graph, net.Parameters);
        var expected = reference.Forward(input.Select(v => (double)v).ToArray(), batch, training: true, DropoutSeed);
        reference.Backward(projection.Select(v => (double)v).ToArray());

        net.DropoutState = DropoutSeed;
        var output = net.TrainForward(input, batch).ToArray();
        net.Parameters.ZeroGradients();
        net.Backward(projection, batch);

        AssertClose(expected, output, expected.Max(Math.Abs), $"{net.GetType().Name} training output");
        var gradientScale = reference.Gradients.Values.Max(g => g.Length == 0 ? 0 : g.Max(Math.Abs));
        foreach (var p in net.Parameters.Where(p => p.Spec.Trainable))
        {
            AssertClose(reference.Gradients[p.Name], p.Gradient, gradientScale, $"{net.GetType().Name} gradient of {p.Name}");
        }
    }

    /// <summary>
    /// Float32 against double: each entry within 1e-3 relative, with a floor of 1e-4 of the largest
    /// magnitude in the network (a gradient that is exactly zero in exact arithmetic, like a bias
    /// before BatchNorm, comes out of float32 sums as rounding noise).
    /// </summary>
    private static void AssertClose(double[] expected, float[] actual, double scale, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var tolerance = (1e-3 * Math.Abs(expected[i])) + (1e-4 * scale);
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"{what}[{i}]: generated {actual[i]:G7}, reference {expected[i]:G9}.");
        }
    }
}
