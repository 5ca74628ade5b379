using System;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PruneGen.Kernels;

public static unsafe partial class Pool2DKernel<TShape>
{
    /// <summary>Backward of max pooling: each output's gradient goes to the input that won its window (the first, on ties).</summary>
    public static void MaxBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int batch)
    {
        int k = TShape.Window, s = TShape.Stride, pad = TShape.Padding, h = TShape.InHeight, w = TShape.InWidth;
        int oh = TShape.OutHeight, ow = TShape.OutWidth;
        if (k == 2 && s == 2 && pad == 0 && Simd.PairPermutes)
        {
            var planes = batch * TShape.Channels;
            fixed (float* px = x, pdy = dy, pdx = dx)
            {
                var work = t_backward ??= new PoolBackwardWork();
                work.X = px;
                work.Dy = pdy;
                work.Dx = pdx;
                work.Planes = planes;
                WorkerPool.Run(work, planes * h * w >= ParallelFloats ? Math.Min(planes, WorkerPool.Workers) : 1);
            }

            return;
        }

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

    /// <summary>
    /// Backward of 2×2 stride-2 max pooling, 16 windows at a time (the even and odd columns of two input rows, as in
    /// <see cref="MaxPairs"/>): the taps are compared in the general loop's order, so the window's first largest tap
    /// gets the gradient, and the four masked gradients are interleaved back onto dx. Lanes past the output row carry no
    /// gradient, so the vectors that run past the input rows add zeros there; the last windows of this part's planes,
    /// whose vectors would run into the next part's (another thread's) or past the tensor, go one at a time.
    /// </summary>
    private static void MaxPairsBackward(float* x, float* dy, float* dx, int from, int to)
    {
        int h = TShape.InHeight, w = TShape.InWidth, oh = TShape.OutHeight, ow = TShape.OutWidth;
        float* xEnd = x + (to * h * w), dyEnd = dy + (to * oh * ow);
        var none = Vector512.Create(float.NegativeInfinity);
        var lanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        for (var plane = from; plane < to; plane++)
        {
            for (var oy = 0; oy < oh; oy++)
            {
                var row = (plane * h * w) + (2 * oy * w);
                float* r0 = x + row, r1 = r0 + w, d0 = dx + row, d1 = d0 + w, g = dy + (plane * oh * ow) + (oy * ow);
                var ox = 0;
                for (; ox < ow && r1 + (2 * ox) + 32 <= xEnd && g + ox + 16 <= dyEnd; ox += 16)
                {
                    var (a, b) = (Vector512.Load(r0 + (2 * ox)), Vector512.Load(r0 + (2 * ox) + 16));
                    var (c, e) = (Vector512.Load(r1 + (2 * ox)), Vector512.Load(r1 + (2 * ox) + 16));
                    var t0 = Avx512F.PermuteVar16x32x2(a, Simd.EvenLanes, b);
                    var t1 = Avx512F.PermuteVar16x32x2(a, Simd.OddLanes, b);
                    var t2 = Avx512F.PermuteVar16x32x2(c, Simd.EvenLanes, e);
                    var t3 = Avx512F.PermuteVar16x32x2(c, Simd.OddLanes, e);

                    // wins[i]: tap i is larger than every tap before it (the general loop's "src > best").
                    var win0 = Vector512.GreaterThan(t0, none);
                    var best = Vector512.ConditionalSelect(win0, t0, none);
                    var win1 = Vector512.GreaterThan(t1, best);
                    best = Vector512.ConditionalSelect(win1, t1, best);
                    var win2 = Vector512.GreaterThan(t2, best);
                    best = Vector512.ConditionalSelect(win2, t2, best);
                    var win3 = Vector512.GreaterThan(t3, best);

                    // The last tap that won keeps the gradient.
                    var left = Vector512.Load(g + ox) & Vector512.LessThan(lanes, Vector512.Create(ow - ox)).AsSingle();
                    var g3 = left & win3;
                    left = Vector512.AndNot(left, win3);
                    var g2 = left & win2;
                    left = Vector512.AndNot(left, win2);
                    var g1 = left & win1;
                    var g0 = Vector512.AndNot(left, win1) & win0;
                    AddTo(d0 + (2 * ox), g0, g1);
                    AddTo(d1 + (2 * ox), g2, g3);
                }

                for (; ox < ow; ox++)
                {
                    var best = float.NegativeInfinity;
                    var arg = -1;
                    for (var tap = 0; tap < 4; tap++)
                    {
                        var at = row + ((tap >> 1) * w) + (2 * ox) + (tap & 1);
                        if (x[at] > best)
                        {
                            (best, arg) = (x[at], at);
                        }
                    }

                    if (arg >= 0)
                    {
                        dx[arg] += g[ox];
                    }
                }
            }
        }

        // dst[0..32) += even and odd interleaved.
        static void AddTo(float* dst, Vector512<float> even, Vector512<float> odd)
        {
            (Vector512.Load(dst) + Avx512F.PermuteVar16x32x2(even, Simd.InterleaveLow, odd)).Store(dst);
            (Vector512.Load(dst + 16) + Avx512F.PermuteVar16x32x2(even, Simd.InterleaveHigh, odd)).Store(dst + 16);
        }
    }

    [ThreadStatic]
    private static PoolBackwardWork? t_backward;

    /// <summary>One 2×2 max pooling backward call; each part takes a contiguous range of channel planes.</summary>
    private sealed class PoolBackwardWork : IParallelWork
    {
        public float* X;
        public float* Dy;
        public float* Dx;
        public int Planes;

        public void Execute(int part, int parts) => MaxPairsBackward(X, Dy, Dx, Planes * part / parts, Planes * (part + 1) / parts);
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
