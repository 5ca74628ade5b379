using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PruneGen.Kernels;

/// <summary>
/// The weight gradient of a stride-1 3×3 layer by F(4×4, 3×3) with the channels in the lanes, where the forward takes it
/// (<see cref="Winograd4Pays"/>): the adjoint of <c>Y = Aᵀ·[Σ_ci U ⊙ V]·A</c>. Per tile the output gradient becomes
/// <c>dM = A·dY·Aᵀ</c> (4×4 → 6×6), the 36 positions e give 36 products <c>dU[e] += V[e]ᵀ · dM[e]</c>, (Cin × tiles)·(tiles ×
/// Cout), summed over every tile of every sample, and <c>dW = Gᵀ·dU·G</c> turns each 6×6 back into 3×3. V is the forward's
/// input transform (<see cref="TransformInput4{TV, TL}"/>); dM is laid out like the forward's products, [e][block][tile][L]
/// (L = <see cref="Lanes4"/>). The products are the broadcast path's run turned around: up to 14 input channels × L output
/// channels in registers, one broadcast transformed input value times L transformed gradients per tile, added into dU.
/// </summary>
public static unsafe partial class Conv2DKernel<TShape>
{
    /// <summary>Input channels per run of the weight products (Cin in equal runs of at most 14; a last run moved back skips what the one before added).</summary>
    private static readonly int WeightRun4 = (TShape.InChannels + ((TShape.InChannels + 13) / 14) - 1) / ((TShape.InChannels + 13) / 14);

    /// <summary>Floats from one position e's dU to the next: [block][ci][lane].</summary>
    private static int WeightPlane4 => Stagger(OutBlocks4 * TShape.InChannels * Lanes4);

    /// <summary>Floats of one sample's output gradient transposed to [pixel][padded channel].</summary>
    private static int TransposedGradient4Length => OutSpatial * Lanes4 * OutBlocks4;

    /// <summary>Floats of one part's dU (36 planes).</summary>
    private static int WeightGradient4Length => 36 * WeightPlane4;

    /// <summary>One part's buffers: the forward's (transformed input, dM in its products' place, dense and bordered input), the transposed gradient, dU last.</summary>
    private static int WeightGradient4PartLength => Winograd4PartLength + TransposedGradient4Length + WeightGradient4Length;

    [ThreadStatic]
    private static WeightGradient4Work? t_weightGradient4;

    /// <summary>
    /// <c>dW += ∂L/∂W</c> for <paramref name="batch"/> samples by F(4×4): split by samples across the threads, each part
    /// summing its own dU; the parts' dU added together and transformed back here.
    /// </summary>
    private static void Winograd4WeightGradientOf(float* x, float* dy, float* dWeight, int batch)
    {
        var total = (t_weightGradient4 ??= new WeightGradient4Work()).Sum(x, dy, batch, WeightGradient4PartLength, WeightGradient4Length);

        // dW[co, ci] += Gᵀ·dU·G.
        int cin = TShape.InChannels, plane = WeightPlane4, l = Lanes4;
        var du = stackalloc float[36];
        for (var co = 0; co < TShape.OutChannels; co++)
        {
            var lane = total + (((co / l * cin) * l) + (co % l));
            for (var ci = 0; ci < cin; ci++)
            {
                for (var e = 0; e < 36; e++)
                {
                    du[e] = lane[(e * plane) + (l * ci)];
                }

                BackTransform4(du, dWeight + (((co * cin) + ci) * 9));
            }
        }
    }

    /// <summary><c>g += Gᵀ·u·G</c> for one 6×6 <paramref name="u"/> (e = 6·i + j) and 3×3 <paramref name="g"/>.</summary>
    private static void BackTransform4(float* u, float* g)
    {
        // Gᵀ = [1/4, −1/6, −1/6, 1/24, 1/24, 0; 0, −1/6, 1/6, 1/12, −1/12, 0; 0, −1/6, −1/6, 1/6, 1/6, 1]: down the columns
        // (i), then along the rows (j).
        var t = stackalloc float[18];
        for (var j = 0; j < 6; j++)
        {
            Gt(u[j], u[6 + j], u[12 + j], u[18 + j], u[24 + j], u[30 + j], out t[j], out t[6 + j], out t[12 + j]);
        }

        for (var r = 0; r < 3; r++)
        {
            var row = t + (6 * r);
            Gt(row[0], row[1], row[2], row[3], row[4], row[5], out var a, out var b, out var c);
            g[3 * r] += a;
            g[(3 * r) + 1] += b;
            g[(3 * r) + 2] += c;
        }

        static void Gt(float u0, float u1, float u2, float u3, float u4, float u5, out float a, out float b, out float c)
        {
            float sum12 = u1 + u2, diff12 = u2 - u1, sum34 = u3 + u4, diff34 = u3 - u4;
            a = (0.25f * u0) - (sum12 / 6) + (sum34 / 24);
            b = (diff12 / 6) + (diff34 / 12);
            c = (sum34 - sum12) / 6 + u5;
        }
    }

    /// <summary>
    /// Sample <paramref name="s"/> of a chunk: its output gradient transposed to [pixel][padded channel], then for every tile
    /// <c>dM = A·dY·Aᵀ</c> (zeros where the tile overhangs the output), L channels per vector, into tile s·tiles + tile of
    /// dM [e][block][tile][L].
    /// </summary>
    private static void TransformOutputGradient4<TV, TL>(float* dySample, int s, float* dm, float* transposed)
        where TV : unmanaged
        where TL : ILanes<TV>
    {
        int ow = TShape.OutWidth, oh = TShape.OutHeight, l = TL.Count, ld = l * OutBlocks4, plane = M4Plane, tc = Tile4Columns;
        Transpose.Matrix(dySample, TShape.OutChannels, OutSpatial, OutSpatial, transposed, ld);
        var columns = stackalloc float[24 * 16];
        for (var b = 0; b < OutBlocks4; b++)
        {
            for (var ty = 0; ty < Tile4Rows; ty++)
            {
                for (var tx = 0; tx < tc; tx++)
                {
                    // A·dY down each of the tile's 4 columns (6 rows each), then along each of the 6 rows into positions e = 6·row + column.
                    var target = dm + (((b * Chunk4Rows) + (s * Tiles4) + (ty * tc) + tx) * l);
                    for (var c = 0; c < 4; c++)
                    {
                        var x = (4 * tx) + c;
                        var p = transposed + (((4 * ty * ow) + x) * ld) + (l * b);
                        var rows = Math.Min(4, oh - (4 * ty));
                        var inside = x < ow;
                        var zero = TL.Zero;
                        var d0 = inside ? TL.Load(p) : zero;
                        var d1 = inside && rows > 1 ? TL.Load(p + (ow * ld)) : zero;
                        var d2 = inside && rows > 2 ? TL.Load(p + (2 * ow * ld)) : zero;
                        var d3 = inside && rows > 3 ? TL.Load(p + (3 * ow * ld)) : zero;
                        A6(d0, d1, d2, d3, columns + (l * c), 4 * l);
                    }

                    for (var k = 0; k < 6; k++)
                    {
                        var row = columns + (4 * l * k);
                        A6(TL.Load(row), TL.Load(row + l), TL.Load(row + (2 * l)), TL.Load(row + (3 * l)), target + (6 * k * plane), plane);
                    }
                }
            }
        }

        // A = (Aᵀ)ᵀ: [x0, x0 + x1 + x2 + x3, x0 − x1 + x2 − x3, x0 + 2x1 + 4x2 + 8x3, x0 − 2x1 + 4x2 − 8x3, x3].
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void A6(TV x0, TV x1, TV x2, TV x3, float* target, int step)
        {
            TV even = TL.Add(x0, x2), odd = TL.Add(x1, x3), even4 = TL.MultiplyAdd(TL.Broadcast(4f), x2, x0);
            var odd8 = TL.MultiplyAdd(TL.Broadcast(8f), x3, TL.Add(x1, x1));
            TL.Store(x0, target);
            TL.Store(TL.Add(even, odd), target + step);
            TL.Store(TL.Subtract(even, odd), target + (2 * step));
            TL.Store(TL.Add(even4, odd8), target + (3 * step));
            TL.Store(TL.Subtract(even4, odd8), target + (4 * step));
            TL.Store(x3, target + (5 * step));
        }
    }

    /// <summary>One F(4×4) weight-gradient call's state; each part sums the products of a contiguous range of samples into its own dU.</summary>
    private sealed class WeightGradient4Work : WeightGradientParts
    {
        public override void Execute(int part, int parts)
        {
            if (Lanes4 == 16)
            {
                Part<Vector512<float>, Lanes16>(part, parts);
            }
            else
            {
                Part<Vector256<float>, Lanes8>(part, parts);
            }
        }

        private void Part<TV, TL>(int part, int parts)
            where TV : unmanaged
            where TL : ILanes<TV>
        {
            Winograd4Space((float*)Spaces[part], out var v, out var dm, out var dense, out var bordered, out _, out _);
            var transposed = v + Winograd4PartLength;
            var du = transposed + TransposedGradient4Length;
            new Span<float>(du, WeightGradient4Length).Clear();

            // The transposed gradient's padding channels stay zero (Transpose writes only real channels).
            new Span<float>(transposed, TransposedGradient4Length).Clear();
            ClearBorder4(bordered);
            int cin = TShape.InChannels, cout = TShape.OutChannels;
            var (from, to) = (Batch * part / parts, Batch * (part + 1) / parts);
            fixed (int* steps = TileSteps)
            {
                for (var n = from; n < to; n += Chunk4)
                {
                    var count = Math.Min(Chunk4, to - n);
                    for (var s = 0; s < count; s++)
                    {
                        TransformInput4<TV, TL>(X + ((n + s) * cin * InSpatial), v + (s * Tiles4 * TileStride4), dense, bordered, 0, Tile4Rows);
                        TransformOutputGradient4<TV, TL>(Dy + ((n + s) * cout * OutSpatial), s, dm, transposed);
                    }

                    var tiles = count * Tiles4;
                    for (var e = 0; e < 36; e++)
                    {
                        float* ve = v + (e * V4Plane), me = dm + (e * M4Plane), ue = du + (e * WeightPlane4);
                        for (var b = 0; b < OutBlocks4; b++)
                        {
                            for (var first = 0; first < cin; first += WeightRun4)
                            {
                                // A last run that would pass Cin starts earlier and adds only the channels the runs before did not.
                                var ci = Math.Min(first, cin - WeightRun4);
                                Run<WeightRun, TV, TL>(ve + ci, me + (b * Chunk4Rows * TL.Count), steps, tiles, ue + (((b * cin) + ci) * TL.Count), TL.Zero, TL.Zero, relu: false, skip: first - ci);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>The weight products' run: positions are input channels, one float apart in a tile's transformed input, <see cref="Lanes4"/> floats apart in dU.</summary>
    private readonly struct WeightRun : IRunOffsets
    {
        public static int Positions => WeightRun4;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Source(int p) => p;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Target(int p) => p * Lanes4;
    }
}
