using PruneGen.Model;

namespace PruneGen.Tests.Reference;

/// <summary>
/// An obviously-correct scalar interpreter of a <see cref="NetworkGraph"/>: the oracle the generated
/// SIMD code is checked against. Every layer kind is one plain function written from the layer's
/// definition (not from the kernels), with explicit index arithmetic, no vectors, no tiling, and
/// all arithmetic in <see cref="double"/> — activations are kept in double between layers, so the
/// only float rounding is in the parameters and the input themselves.
/// <para>
/// Layout conventions (PyTorch's): tensors are NCHW, one sample after another; a flat tensor is
/// (N, C). Dense weight is [Out, In]; convolution weight is [Cout, Cin/groups, K, K].
/// </para>
/// </summary>
public static class ScalarReference
{
    /// <summary>Runs the whole network on <paramref name="batch"/> samples and returns the last layer's output (batch × output size), rounded to float.</summary>
    public static float[] Forward(NetworkGraph graph, ParameterSet parameters, float[] input, int batch)
    {
        var layers = ForwardLayers(graph, parameters, input, batch);
        var last = layers[^1];
        var result = new float[last.Length];
        for (var i = 0; i < last.Length; i++)
        {
            result[i] = (float)last[i];
        }

        return result;
    }

    /// <summary>
    /// Runs the network and returns every layer's output in layer order (index = <see cref="LayerNode.Index"/>),
    /// each batch × that layer's output size, in double. This is what a backward-pass oracle needs.
    /// </summary>
    public static double[][] ForwardLayers(NetworkGraph graph, ParameterSet parameters, float[] input, int batch)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(input);
        var inputSize = graph.InputShape.Size;
        if (batch < 1 || input.Length < batch * inputSize)
        {
            throw new ArgumentException($"Need {batch} samples of {inputSize} floats, got {input.Length} floats.", nameof(input));
        }

        var x0 = new double[batch * inputSize];
        for (var i = 0; i < x0.Length; i++)
        {
            x0[i] = input[i];
        }

        var outputs = new double[graph.Layers.Count][];
        double[] Value(int index) => index < 0 ? x0 : outputs[index];

        foreach (var layer in graph.Layers)
        {
            var x = Value(layer.Inputs[0]);
            var inShape = layer.InputShape;
            var outShape = layer.OutputShape;
            double[] P(string suffix) => ToDouble(parameters[layer.Name + "." + suffix].Data);
            double[]? Bias() => parameters.TryGet(layer.Name + ".bias", out var b) ? ToDouble(b.Data) : null;

            outputs[layer.Index] = layer.Kind switch
            {
                LayerKind.Dense => Dense(x, P("weight"), Bias(), batch, inShape.Size, outShape.Size),
                LayerKind.Conv2D => Conv2D(x, P("weight"), Bias(), batch, inShape.Channels, inShape.Height, inShape.Width,
                    outShape.Channels, outShape.Height, outShape.Width, layer.Kernel, layer.Stride, layer.Padding, layer.Groups),
                LayerKind.BatchNorm => BatchNorm(x, P("weight"), P("bias"), P("running_mean"), P("running_var"), batch, inShape.Channels, inShape.Spatial),
                LayerKind.ReLU => Map(x, v => v > 0 ? v : 0),
                LayerKind.LeakyReLU => LeakyReLU(x, layer.Alpha),
                LayerKind.Sigmoid => Map(x, v => 1 / (1 + Math.Exp(-v))),
                LayerKind.Tanh => Map(x, Math.Tanh),
                LayerKind.MaxPool2D => MaxPool2D(x, batch, inShape.Channels, inShape.Height, inShape.Width, outShape.Height, outShape.Width, layer.Kernel, layer.Stride, layer.Padding),
                LayerKind.AvgPool2D => AvgPool2D(x, batch, inShape.Channels, inShape.Height, inShape.Width, outShape.Height, outShape.Width, layer.Kernel, layer.Stride, layer.Padding),
                LayerKind.GlobalAvgPool => GlobalAvgPool(x, batch, inShape.Channels, inShape.Spatial),
                LayerKind.Flatten => (double[])x.Clone(),
                LayerKind.Dropout => (double[])x.Clone(),
                LayerKind.Add => Add(layer.Inputs.Select(Value).ToArray()),
                LayerKind.Concat => Concat(layer.Inputs.Select(Value).ToArray(), layer.Inputs.Select(i => graph.ShapeOf(i).Size).ToArray(), batch),
                LayerKind.Softmax => Softmax(x, batch, inShape.Size),
                _ => throw new NotSupportedException($"The scalar reference has no definition for layer kind {layer.Kind} ('{layer.Name}')."),
            };
        }

        return outputs;
    }

    // x: (N, In); weight: [Out, In]; bias: [Out] or null; y: (N, Out).
    // y[n, o] = bias[o] + Σ_i x[n, i] · weight[o, i]
    private static double[] Dense(double[] x, double[] weight, double[]? bias, int batch, int inFeatures, int outFeatures)
    {
        var y = new double[batch * outFeatures];
        for (var n = 0; n < batch; n++)
        {
            for (var o = 0; o < outFeatures; o++)
            {
                var sum = bias?[o] ?? 0.0;
                for (var i = 0; i < inFeatures; i++)
                {
                    sum += x[(n * inFeatures) + i] * weight[(o * inFeatures) + i];
                }

                y[(n * outFeatures) + o] = sum;
            }
        }

        return y;
    }

    // x: (N, Cin, H, W); weight: [Cout, Cin/G, K, K]; bias: [Cout] or null; y: (N, Cout, OH, OW).
    // Output channel o belongs to group g = o / (Cout/G) and sees input channels g·(Cin/G) … (g+1)·(Cin/G) − 1.
    // y[n, o, oy, ox] = bias[o] + Σ_{ci, ky, kx} x[n, g·Cin/G + ci, oy·S − P + ky, ox·S − P + kx] · weight[o, ci, ky, kx],
    // where taps outside the image read zero (zero padding).
    private static double[] Conv2D(double[] x, double[] weight, double[]? bias, int batch, int cin, int h, int w,
        int cout, int oh, int ow, int k, int stride, int pad, int groups)
    {
        var groupIn = cin / groups;
        var groupOut = cout / groups;
        var y = new double[batch * cout * oh * ow];
        for (var n = 0; n < batch; n++)
        {
            for (var o = 0; o < cout; o++)
            {
                var g = o / groupOut;
                for (var oy = 0; oy < oh; oy++)
                {
                    for (var ox = 0; ox < ow; ox++)
                    {
                        var sum = bias?[o] ?? 0.0;
                        for (var ci = 0; ci < groupIn; ci++)
                        {
                            var c = (g * groupIn) + ci;
                            for (var ky = 0; ky < k; ky++)
                            {
                                var iy = (oy * stride) - pad + ky;
                                if (iy < 0 || iy >= h)
                                {
                                    continue;
                                }

                                for (var kx = 0; kx < k; kx++)
                                {
                                    var ix = (ox * stride) - pad + kx;
                                    if (ix < 0 || ix >= w)
                                    {
                                        continue;
                                    }

                                    sum += x[(((n * cin) + c) * h * w) + (iy * w) + ix] * weight[(((o * groupIn) + ci) * k * k) + (ky * k) + kx];
                                }
                            }
                        }

                        y[(((n * cout) + o) * oh * ow) + (oy * ow) + ox] = sum;
                    }
                }
            }
        }

        return y;
    }

    // x: (N, C, S) with S = H·W for an image and S = 1 for a flat vector; gamma, beta, mean, var: [C]; y: like x.
    // y = gamma[c] · (x − mean[c]) / √(var[c] + ε) + beta[c], ε = NetworkBuilder.BatchNormEpsilon (inference: running statistics).
    private static double[] BatchNorm(double[] x, double[] gamma, double[] beta, double[] mean, double[] variance, int batch, int channels, int spatial)
    {
        double eps = NetworkBuilder.BatchNormEpsilon;
        var y = new double[x.Length];
        for (var n = 0; n < batch; n++)
        {
            for (var c = 0; c < channels; c++)
            {
                for (var s = 0; s < spatial; s++)
                {
                    var i = (((n * channels) + c) * spatial) + s;
                    y[i] = (gamma[c] * (x[i] - mean[c]) / Math.Sqrt(variance[c] + eps)) + beta[c];
                }
            }
        }

        return y;
    }

    // x: any shape; y: like x. y = x if x > 0 else alpha·x.
    private static double[] LeakyReLU(double[] x, double alpha) => Map(x, v => v > 0 ? v : alpha * v);

    // x: any shape; y: like x, y[i] = f(x[i]) (ReLU, sigmoid, tanh).
    private static double[] Map(double[] x, Func<double, double> f)
    {
        var y = new double[x.Length];
        for (var i = 0; i < x.Length; i++)
        {
            y[i] = f(x[i]);
        }

        return y;
    }

    // x: (N, C, H, W); y: (N, C, OH, OW).
    // y[n, c, oy, ox] = max over the window taps (oy·S − P + ky, ox·S − P + kx) that lie inside the image;
    // padded taps never win (they are −∞). Padding ≤ K/2 guarantees every window has a real tap.
    private static double[] MaxPool2D(double[] x, int batch, int channels, int h, int w, int oh, int ow, int k, int stride, int pad)
    {
        var y = new double[batch * channels * oh * ow];
        for (var plane = 0; plane < batch * channels; plane++)
        {
            for (var oy = 0; oy < oh; oy++)
            {
                for (var ox = 0; ox < ow; ox++)
                {
                    var best = double.NegativeInfinity;
                    for (var ky = 0; ky < k; ky++)
                    {
                        for (var kx = 0; kx < k; kx++)
                        {
                            int iy = (oy * stride) - pad + ky, ix = (ox * stride) - pad + kx;
                            if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                            {
                                best = Math.Max(best, x[(plane * h * w) + (iy * w) + ix]);
                            }
                        }
                    }

                    y[(plane * oh * ow) + (oy * ow) + ox] = best;
                }
            }
        }

        return y;
    }

    // x: (N, C, H, W); y: (N, C, OH, OW).
    // y[n, c, oy, ox] = (Σ over window taps inside the image) / (K·K): padded taps count as zeros and
    // the divisor is always the window area (ONNX count_include_pad = 1).
    private static double[] AvgPool2D(double[] x, int batch, int channels, int h, int w, int oh, int ow, int k, int stride, int pad)
    {
        var y = new double[batch * channels * oh * ow];
        for (var plane = 0; plane < batch * channels; plane++)
        {
            for (var oy = 0; oy < oh; oy++)
            {
                for (var ox = 0; ox < ow; ox++)
                {
                    var sum = 0.0;
                    for (var ky = 0; ky < k; ky++)
                    {
                        for (var kx = 0; kx < k; kx++)
                        {
                            int iy = (oy * stride) - pad + ky, ix = (ox * stride) - pad + kx;
                            if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                            {
                                sum += x[(plane * h * w) + (iy * w) + ix];
                            }
                        }
                    }

                    y[(plane * oh * ow) + (oy * ow) + ox] = sum / (k * k);
                }
            }
        }

        return y;
    }

    // x: (N, C, S) with S = H·W; y: (N, C) flat. y[n, c] = (Σ_s x[n, c, s]) / S.
    private static double[] GlobalAvgPool(double[] x, int batch, int channels, int spatial)
    {
        var y = new double[batch * channels];
        for (var i = 0; i < batch * channels; i++)
        {
            var sum = 0.0;
            for (var s = 0; s < spatial; s++)
            {
                sum += x[(i * spatial) + s];
            }

            y[i] = sum / spatial;
        }

        return y;
    }

    // inputs: two or more tensors of one shape (N, …); y: that shape. y[i] = Σ_t inputs[t][i].
    private static double[] Add(double[][] inputs)
    {
        var y = new double[inputs[0].Length];
        foreach (var t in inputs)
        {
            for (var i = 0; i < y.Length; i++)
            {
                y[i] += t[i];
            }
        }

        return y;
    }

    // inputs[t]: (N, C_t, H, W) (or flat (N, C_t)), sizes[t] = C_t·H·W; y: (N, ΣC_t, H, W).
    // Channels are outermost within a sample, so sample n of y is input 0's sample n, then input 1's, … :
    // y[n, offset_t + j] = inputs[t][n, j] with offset_t = Σ_{u<t} sizes[u].
    private static double[] Concat(double[][] inputs, int[] sizes, int batch)
    {
        var total = sizes.Sum();
        var y = new double[batch * total];
        for (var n = 0; n < batch; n++)
        {
            var offset = 0;
            for (var t = 0; t < inputs.Length; t++)
            {
                for (var j = 0; j < sizes[t]; j++)
                {
                    y[(n * total) + offset + j] = inputs[t][(n * sizes[t]) + j];
                }

                offset += sizes[t];
            }
        }

        return y;
    }

    // x: (N, F) flat; y: (N, F). y[n, f] = exp(x[n, f] − m) / Σ_g exp(x[n, g] − m), m = max_g x[n, g]
    // (subtracting the maximum changes nothing mathematically and keeps exp finite).
    private static double[] Softmax(double[] x, int batch, int features)
    {
        var y = new double[x.Length];
        for (var n = 0; n < batch; n++)
        {
            var max = double.NegativeInfinity;
            for (var f = 0; f < features; f++)
            {
                max = Math.Max(max, x[(n * features) + f]);
            }

            var sum = 0.0;
            for (var f = 0; f < features; f++)
            {
                sum += Math.Exp(x[(n * features) + f] - max);
            }

            for (var f = 0; f < features; f++)
            {
                y[(n * features) + f] = Math.Exp(x[(n * features) + f] - max) / sum;
            }
        }

        return y;
    }

    private static double[] ToDouble(float[] values)
    {
        var result = new double[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[i] = values[i];
        }

        return result;
    }
}
