using PruneGen.Model;

namespace PruneGen.Tests.Reference;

/// <summary>
/// A plain, double-precision interpreter of a <see cref="NetworkGraph"/> with a forward and a
/// backward function per layer kind, written from the definitions (not from the kernels). It is the
/// oracle for the generated training code: finite differences check it in double precision (where
/// rounding and kinks do not blur the result), and the generated float32 backward must match it.
/// Tensors are NCHW, batch-major, like the generated code.
/// </summary>
public sealed class DoubleReference
{
    private readonly NetworkGraph _graph;
    private readonly double[][] _outputs;
    private readonly Dictionary<int, (double[] Mean, double[] InvStd)> _batchStats = new();
    private readonly Dictionary<int, double[]> _masks = new();
    private double[] _input = [];
    private int _batch;

    public DoubleReference(NetworkGraph graph, ParameterSet parameters)
    {
        _graph = graph;
        _outputs = new double[graph.Layers.Count][];
        foreach (var p in parameters)
        {
            Parameters[p.Name] = p.Data.Select(v => (double)v).ToArray();
        }
    }

    /// <summary>Parameter values by name (edit them for finite differences).</summary>
    public Dictionary<string, double[]> Parameters { get; } = new();

    /// <summary>Every layer's output of the last forward pass, in layer order.</summary>
    public double[][] LayerOutputs => _outputs;

    /// <summary>Gradients by parameter name after <see cref="Backward"/>.</summary>
    public Dictionary<string, double[]> Gradients { get; } = new();

    /// <summary>
    /// Forward pass. In training mode BatchNorm uses batch statistics and dropout draws its mask with
    /// the generated code's generator (xorshift64* from <paramref name="dropoutState"/>, one draw per
    /// element in layer order), so both see the same masks.
    /// </summary>
    public double[] Forward(double[] input, int batch, bool training, ulong dropoutState = 0x9E3779B97F4A7C15UL)
    {
        _input = input;
        _batch = batch;
        foreach (var l in _graph.Layers)
        {
            var x = In(l, 0);
            var xs = _graph.ShapeOf(l.Inputs[0]);
            var ys = l.OutputShape;
            var y = new double[batch * ys.Size];
            switch (l.Kind)
            {
                case LayerKind.Dense:
                    {
                        // x (B, In), W (Out, In): y[n,o] = b[o] + Σ_i x[n,i] W[o,i]
                        var w = P(l, "weight");
                        var b = l.Bias ? P(l, "bias") : null;
                        for (var n = 0; n < batch; n++)
                        {
                            for (var o = 0; o < ys.Size; o++)
                            {
                                var s = b?[o] ?? 0;
                                for (var i = 0; i < xs.Size; i++)
                                {
                                    s += x[(n * xs.Size) + i] * w[(o * xs.Size) + i];
                                }

                                y[(n * ys.Size) + o] = s;
                            }
                        }

                        break;
                    }

                case LayerKind.Conv2D:
                    ConvForward(l, x, xs, y, batch);
                    break;
                case LayerKind.BatchNorm:
                    BatchNormForward(l, x, y, batch, training);
                    break;
                case LayerKind.ReLU:
                    Map(x, y, v => v > 0 ? v : 0);
                    break;
                case LayerKind.LeakyReLU:
                    Map(x, y, v => v > 0 ? v : l.Alpha * v);
                    break;
                case LayerKind.Sigmoid:
                    Map(x, y, v => 1 / (1 + Math.Exp(-v)));
                    break;
                case LayerKind.Tanh:
                    Map(x, y, Math.Tanh);
                    break;
                case LayerKind.MaxPool2D:
                case LayerKind.AvgPool2D:
                    Pool(l, xs, batch, (plane, oy, ox, taps) =>
                        y[(plane * ys.Spatial) + (oy * ys.Width) + ox] = l.Kind == LayerKind.MaxPool2D
                            ? taps.Max(t => x[(plane * xs.Spatial) + t])
                            : taps.Sum(t => x[(plane * xs.Spatial) + t]) / (l.Kernel * l.Kernel));
                    break;
                case LayerKind.GlobalAvgPool:
                    for (var i = 0; i < batch * xs.Channels; i++)
                    {
                        y[i] = x.Skip(i * xs.Spatial).Take(xs.Spatial).Average();
                    }

                    break;
                case LayerKind.Flatten:
                    Array.Copy(x, y, y.Length);
                    break;
                case LayerKind.Dropout:
                    if (training)
                    {
                        var mask = new double[y.Length];
                        var keep = 1.0 / (1.0 - (float)l.Alpha);
                        for (var i = 0; i < y.Length; i++)
                        {
                            dropoutState ^= dropoutState >> 12;
                            dropoutState ^= dropoutState << 25;
                            dropoutState ^= dropoutState >> 27;
                            var u = ((dropoutState * 2685821657736338717UL) >> 40) * (1f / (1 << 24));
                            mask[i] = u < (float)l.Alpha ? 0 : keep;
                            y[i] = x[i] * mask[i];
                        }

                        _masks[l.Index] = mask;
                    }
                    else
                    {
                        Array.Copy(x, y, y.Length);
                    }

                    break;
                case LayerKind.Add:
                    for (var k = 0; k < l.Inputs.Count; k++)
                    {
                        var xk = In(l, k);
                        for (var i = 0; i < y.Length; i++)
                        {
                            y[i] += xk[i];
                        }
                    }

                    break;
                case LayerKind.Concat:
                    {
                        var offset = 0;
                        for (var k = 0; k < l.Inputs.Count; k++)
                        {
                            var xk = In(l, k);
                            var size = _graph.ShapeOf(l.Inputs[k]).Size;
                            for (var n = 0; n < batch; n++)
                            {
                                Array.Copy(xk, n * size, y, (n * ys.Size) + offset, size);
                            }

                            offset += size;
                        }

                        break;
                    }

                case LayerKind.Softmax:
                    for (var n = 0; n < batch; n++)
                    {
                        var row = x.Skip(n * ys.Size).Take(ys.Size).ToArray();
                        var max = row.Max();
                        var sum = row.Sum(v => Math.Exp(v - max));
                        for (var i = 0; i < ys.Size; i++)
                        {
                            y[(n * ys.Size) + i] = Math.Exp(row[i] - max) / sum;
                        }
                    }

                    break;
                default:
                    throw new NotSupportedException(l.Kind.ToString());
            }

            _outputs[l.Index] = y;
        }

        return _outputs[^1];
    }

    /// <summary>Backward pass of the last training forward: fills <see cref="Gradients"/> from ∂loss/∂output.</summary>
    public void Backward(double[] outputGradient)
    {
        var batch = _batch;
        var grads = _graph.Layers.Select(l => new double[batch * l.OutputShape.Size]).ToArray();
        Array.Copy(outputGradient, grads[^1], grads[^1].Length);
        Gradients.Clear();
        foreach (var name in Parameters.Keys)
        {
            Gradients[name] = new double[Parameters[name].Length];
        }

        for (var index = _graph.Layers.Count - 1; index >= 0; index--)
        {
            var l = _graph.Layers[index];
            var dy = grads[index];
            var y = _outputs[index];
            var x = In(l, 0);
            var xs = _graph.ShapeOf(l.Inputs[0]);
            var ys = l.OutputShape;
            var dx = l.Inputs[0] >= 0 ? grads[l.Inputs[0]] : new double[x.Length];
            switch (l.Kind)
            {
                case LayerKind.Dense:
                    {
                        var w = P(l, "weight");
                        var dw = Gradients[l.Name + ".weight"];
                        for (var n = 0; n < batch; n++)
                        {
                            for (var o = 0; o < ys.Size; o++)
                            {
                                var g = dy[(n * ys.Size) + o];
                                if (l.Bias)
                                {
                                    Gradients[l.Name + ".bias"][o] += g;
                                }

                                for (var i = 0; i < xs.Size; i++)
                                {
                                    dw[(o * xs.Size) + i] += g * x[(n * xs.Size) + i];
                                    dx[(n * xs.Size) + i] += g * w[(o * xs.Size) + i];
                                }
                            }
                        }

                        break;
                    }

                case LayerKind.Conv2D:
                    ConvBackward(l, x, xs, dy, dx, batch);
                    break;
                case LayerKind.BatchNorm:
                    BatchNormBackward(l, x, dy, dx, batch);
                    break;
                case LayerKind.ReLU:
                    Zip(dx, i => y[i] > 0 ? dy[i] : 0);
                    break;
                case LayerKind.LeakyReLU:
                    Zip(dx, i => x[i] > 0 ? dy[i] : l.Alpha * dy[i]);
                    break;
                case LayerKind.Sigmoid:
                    Zip(dx, i => dy[i] * y[i] * (1 - y[i]));
                    break;
                case LayerKind.Tanh:
                    Zip(dx, i => dy[i] * (1 - (y[i] * y[i])));
                    break;
                case LayerKind.MaxPool2D:
                    Pool(l, xs, batch, (plane, oy, ox, taps) =>
                    {
                        var best = taps.OrderByDescending(t => x[(plane * xs.Spatial) + t]).ThenBy(t => t).First();
                        dx[(plane * xs.Spatial) + best] += dy[(plane * ys.Spatial) + (oy * ys.Width) + ox];
                    });
                    break;
                case LayerKind.AvgPool2D:
                    Pool(l, xs, batch, (plane, oy, ox, taps) =>
                    {
                        foreach (var t in taps)
                        {
                            dx[(plane * xs.Spatial) + t] += dy[(plane * ys.Spatial) + (oy * ys.Width) + ox] / (l.Kernel * l.Kernel);
                        }
                    });
                    break;
                case LayerKind.GlobalAvgPool:
                    Zip(dx, i => dy[i / xs.Spatial] / xs.Spatial);
                    break;
                case LayerKind.Flatten:
                    Zip(dx, i => dy[i]);
                    break;
                case LayerKind.Dropout:
                    Zip(dx, i => dy[i] * _masks[l.Index][i]);
                    break;
                case LayerKind.Add:
                    for (var k = 0; k < l.Inputs.Count; k++)
                    {
                        if (l.Inputs[k] >= 0)
                        {
                            Zip(grads[l.Inputs[k]], i => dy[i]);
                        }
                    }

                    break;
                case LayerKind.Concat:
                    {
                        var offset = 0;
                        for (var k = 0; k < l.Inputs.Count; k++)
                        {
                            var size = _graph.ShapeOf(l.Inputs[k]).Size;
                            if (l.Inputs[k] >= 0)
                            {
                                var o = offset;
                                Zip(grads[l.Inputs[k]], i => dy[((i / size) * ys.Size) + o + (i % size)]);
                            }

                            offset += size;
                        }

                        break;
                    }

                case LayerKind.Softmax:
                    for (var n = 0; n < batch; n++)
                    {
                        double dot = 0;
                        for (var i = 0; i < ys.Size; i++)
                        {
                            dot += dy[(n * ys.Size) + i] * y[(n * ys.Size) + i];
                        }

                        for (var i = 0; i < ys.Size; i++)
                        {
                            dx[(n * ys.Size) + i] += y[(n * ys.Size) + i] * (dy[(n * ys.Size) + i] - dot);
                        }
                    }

                    break;
            }
        }
    }

    private double[] In(LayerNode l, int k) => l.Inputs[k] < 0 ? _input : _outputs[l.Inputs[k]];

    private double[] P(LayerNode l, string suffix) => Parameters[l.Name + "." + suffix];

    private static void Map(double[] x, double[] y, Func<double, double> f)
    {
        for (var i = 0; i < y.Length; i++)
        {
            y[i] = f(x[i]);
        }
    }

    private static void Zip(double[] dx, Func<int, double> contribution)
    {
        for (var i = 0; i < dx.Length; i++)
        {
            dx[i] += contribution(i);
        }
    }

    /// <summary>Visits every output position of a pooling layer with the in-image taps of its window (flat indices within the plane).</summary>
    private static void Pool(LayerNode l, TensorShape xs, int batch, Action<int, int, int, List<int>> visit)
    {
        var ys = l.OutputShape;
        for (var plane = 0; plane < batch * xs.Channels; plane++)
        {
            for (var oy = 0; oy < ys.Height; oy++)
            {
                for (var ox = 0; ox < ys.Width; ox++)
                {
                    var taps = new List<int>();
                    for (var ky = 0; ky < l.Kernel; ky++)
                    {
                        for (var kx = 0; kx < l.Kernel; kx++)
                        {
                            int iy = (oy * l.Stride) - l.Padding + ky, ix = (ox * l.Stride) - l.Padding + kx;
                            if (iy >= 0 && iy < xs.Height && ix >= 0 && ix < xs.Width)
                            {
                                taps.Add((iy * xs.Width) + ix);
                            }
                        }
                    }

                    visit(plane, oy, ox, taps);
                }
            }
        }
    }

    // x (B, Cin, H, W), W (Cout, Cin/G, K, K): y[n,co,oy,ox] = b[co] + Σ_{ci in group, ky, kx} x[n, ci, oy·s−p+ky, ox·s−p+kx]·W[co, ci−g·Cin/G, ky, kx]
    private void ConvForward(LayerNode l, double[] x, TensorShape xs, double[] y, int batch) =>
        ConvVisit(l, xs, batch, (n, co, oy, ox, xi, wi) => y[Index(n, co, oy, ox, l.OutputShape)] += x[xi] * P(l, "weight")[wi], (n, co, oy, ox) =>
            y[Index(n, co, oy, ox, l.OutputShape)] += l.Bias ? P(l, "bias")[co] : 0);

    private void ConvBackward(LayerNode l, double[] x, TensorShape xs, double[] dy, double[] dx, int batch)
    {
        var w = P(l, "weight");
        var dw = Gradients[l.Name + ".weight"];
        ConvVisit(l, xs, batch, (n, co, oy, ox, xi, wi) =>
        {
            var g = dy[Index(n, co, oy, ox, l.OutputShape)];
            dw[wi] += g * x[xi];
            dx[xi] += g * w[wi];
        }, (n, co, oy, ox) =>
        {
            if (l.Bias)
            {
                Gradients[l.Name + ".bias"][co] += dy[Index(n, co, oy, ox, l.OutputShape)];
            }
        });
    }

    private static void ConvVisit(LayerNode l, TensorShape xs, int batch, Action<int, int, int, int, int, int> tap, Action<int, int, int, int> position)
    {
        var ys = l.OutputShape;
        int groupIn = xs.Channels / l.Groups, groupOut = ys.Channels / l.Groups;
        for (var n = 0; n < batch; n++)
        {
            for (var co = 0; co < ys.Channels; co++)
            {
                var g = co / groupOut;
                for (var oy = 0; oy < ys.Height; oy++)
                {
                    for (var ox = 0; ox < ys.Width; ox++)
                    {
                        position(n, co, oy, ox);
                        for (var c = 0; c < groupIn; c++)
                        {
                            for (var ky = 0; ky < l.Kernel; ky++)
                            {
                                for (var kx = 0; kx < l.Kernel; kx++)
                                {
                                    int iy = (oy * l.Stride) - l.Padding + ky, ix = (ox * l.Stride) - l.Padding + kx;
                                    if (iy >= 0 && iy < xs.Height && ix >= 0 && ix < xs.Width)
                                    {
                                        tap(n, co, oy, ox, Index(n, (g * groupIn) + c, iy, ix, xs), (((((co * groupIn) + c) * l.Kernel) + ky) * l.Kernel) + kx);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static int Index(int n, int c, int y, int x, TensorShape s) => (((((n * s.Channels) + c) * s.Height) + y) * s.Width) + x;

    // y = γ·(x − μ)/√(σ² + ε) + β per channel; μ, σ² over (batch, positions) in training, running statistics otherwise.
    private void BatchNormForward(LayerNode l, double[] x, double[] y, int batch, bool training)
    {
        var s = l.OutputShape;
        var count = batch * s.Spatial;
        var mean = new double[s.Channels];
        var invStd = new double[s.Channels];
        for (var c = 0; c < s.Channels; c++)
        {
            var values = Channel(x, c, s, batch).ToArray();
            var m = training ? values.Average() : P(l, "running_mean")[c];
            var v = training ? values.Sum(t => (t - m) * (t - m)) / count : P(l, "running_var")[c];
            mean[c] = m;
            invStd[c] = 1 / Math.Sqrt(v + NetworkBuilder.BatchNormEpsilon);
            foreach (var i in ChannelIndices(c, s, batch))
            {
                y[i] = (P(l, "weight")[c] * (x[i] - m) * invStd[c]) + P(l, "bias")[c];
            }
        }

        _batchStats[l.Index] = (mean, invStd);
    }

    private void BatchNormBackward(LayerNode l, double[] x, double[] dy, double[] dx, int batch)
    {
        var s = l.OutputShape;
        var count = batch * s.Spatial;
        var (mean, invStd) = _batchStats[l.Index];
        for (var c = 0; c < s.Channels; c++)
        {
            var idx = ChannelIndices(c, s, batch).ToArray();
            var xhat = idx.Select(i => (x[i] - mean[c]) * invStd[c]).ToArray();
            var sumDy = idx.Sum(i => dy[i]);
            var sumDyXhat = idx.Select((i, k) => dy[i] * xhat[k]).Sum();
            Gradients[l.Name + ".bias"][c] += sumDy;
            Gradients[l.Name + ".weight"][c] += sumDyXhat;
            var gamma = P(l, "weight")[c];
            for (var k = 0; k < idx.Length; k++)
            {
                dx[idx[k]] += gamma * invStd[c] / count * ((count * dy[idx[k]]) - sumDy - (xhat[k] * sumDyXhat));
            }
        }
    }

    private static IEnumerable<double> Channel(double[] x, int c, TensorShape s, int batch) => ChannelIndices(c, s, batch).Select(i => x[i]);

    private static IEnumerable<int> ChannelIndices(int c, TensorShape s, int batch)
    {
        for (var n = 0; n < batch; n++)
        {
            for (var p = 0; p < s.Spatial; p++)
            {
                yield return (((n * s.Channels) + c) * s.Spatial) + p;
            }
        }
    }
}
