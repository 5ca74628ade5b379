using System;

namespace PruneGen.Kernels;

public static partial class Pool2DKernel<TShape>
{
    /// <summary>Backward of max pooling: each output's gradient goes to the input that won its window (the first, on ties).</summary>
    public static void MaxBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int batch)
    {
        int k = TShape.Window, s = TShape.Stride, pad = TShape.Padding, h = TShape.InHeight, w = TShape.InWidth;
        int oh = TShape.OutHeight, ow = TShape.OutWidth;
        for (var plane = 0; plane < batch * TShape.Channels; plane++)
        {
            var src = x.Slice(plane * h * w, h * w);
            var dsrc = dx.Slice(plane * h * w, h * w);
            var g = dy.Slice(plane * oh * ow, oh * ow);
            for (var oy = 0; oy < oh; oy++)
            {
                for (var ox = 0; ox < ow; ox++)
                {
                    var best = float.NegativeInfinity;
                    var arg = -1;
                    for (var ky = 0; ky < k; ky++)
                    {
                        var iy = (oy * s) - pad + ky;
                        if ((uint)iy >= (uint)h)
                        {
                            continue;
                        }

                        for (var kx = 0; kx < k; kx++)
                        {
                            var ix = (ox * s) - pad + kx;
                            if ((uint)ix < (uint)w && src[(iy * w) + ix] > best)
                            {
                                best = src[(iy * w) + ix];
                                arg = (iy * w) + ix;
                            }
                        }
                    }

                    if (arg >= 0)
                    {
                        dsrc[arg] += g[(oy * ow) + ox];
                    }
                }
            }
        }
    }

    /// <summary>Backward of average pooling: each output's gradient, divided by the window area, goes to every in-image tap.</summary>
    public static void AvgBackward(ReadOnlySpan<float> dy, Span<float> dx, int batch)
    {
        int k = TShape.Window, s = TShape.Stride, pad = TShape.Padding, h = TShape.InHeight, w = TShape.InWidth;
        int oh = TShape.OutHeight, ow = TShape.OutWidth;
        var area = 1f / (k * k);
        for (var plane = 0; plane < batch * TShape.Channels; plane++)
        {
            var dsrc = dx.Slice(plane * h * w, h * w);
            var g = dy.Slice(plane * oh * ow, oh * ow);
            for (var oy = 0; oy < oh; oy++)
            {
                for (var ox = 0; ox < ow; ox++)
                {
                    var share = g[(oy * ow) + ox] * area;
                    for (var ky = 0; ky < k; ky++)
                    {
                        var iy = (oy * s) - pad + ky;
                        if ((uint)iy >= (uint)h)
                        {
                            continue;
                        }

                        for (var kx = 0; kx < k; kx++)
                        {
                            var ix = (ox * s) - pad + kx;
                            if ((uint)ix < (uint)w)
                            {
                                dsrc[(iy * w) + ix] += share;
                            }
                        }
                    }
                }
            }
        }
    }
}

public static partial class GlobalAvgPoolKernel<TShape>
{
    /// <summary>Backward of global average pooling: <c>dx[n, c, p] += dy[n, c] / positions</c>.</summary>
    public static void Backward(ReadOnlySpan<float> dy, Span<float> dx, int batch)
    {
        var inv = 1f / TShape.Spatial;
        for (var i = 0; i < batch * TShape.Channels; i++)
        {
            var share = dy[i] * inv;
            var seg = dx.Slice(i * TShape.Spatial, TShape.Spatial);
            for (var p = 0; p < seg.Length; p++)
            {
                seg[p] += share;
            }
        }
    }
}
