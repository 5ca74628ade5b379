using System;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PruneGen.Kernels;

/// <summary>
/// The weight gradient of a stride-1 3×3 layer by Winograd F(2×2, 3×3), the adjoint of the forward's
/// <c>Y = Aᵀ·[Σ_ci U ⊙ V]·A</c> with <c>U = G·g·Gᵀ</c>: per tile the output gradient becomes <c>dM = A·dY·Aᵀ</c> (2×2 → 4×4),
/// the 16 positions e give 16 products <c>dU[e]ᵀ += V[e] · dM[e]ᵀ</c>, (Cin × tiles)·(tiles × Cout), over every tile of every
/// sample, and <c>dW = Gᵀ·dU·G</c> turns each 4×4 back into 3×3. The products take 16·Cout·Cin multiply-adds per tile
/// against 36 for the unfolded product; V is the forward's input transform. dM is laid out [tile][channel] (the output
/// gradient is transposed first, as the unfolded path does) so that the products are ordinary NN products vectorized
/// along the output channels: as [channel][tile] they were NT products whose per-block lane reductions held them to
/// 57 % of the FMA peak.
/// </summary>
public static unsafe partial class Conv2DKernel<TShape>
{
    /// <summary>Whether the weight gradient takes the Winograd path: the shapes whose forward does (see <see cref="WinogradShape"/>).</summary>
    private static bool WinogradWeightGradient => WinogradShape;

    /// <summary>Floats from one position e's transformed output gradient ([tile][channel]) to the next, staggered like the transformed input.</summary>
    private static int GradientTransformedPlane => Stagger(ProductColumns * PaddedGroupOut);

    /// <summary>Floats of one part's 16 accumulated products dUᵀ (Cin × padded Cout each).</summary>
    private static int WeightProductLength => 16 * TShape.InChannels * PaddedGroupOut;

    /// <summary>Floats of one sample's output gradient transposed to [position][padded channel].</summary>
    private static int TransposedGradientLength => OutSpatial * PaddedGroupOut;

    /// <summary>One part's buffers: transformed input, transformed output gradient, bordered input, transposed output gradient, dUᵀ.</summary>
    private static int WinogradGradientPartLength => TransformedLength + (16 * GradientTransformedPlane) + WinogradBorderedLength + TransposedGradientLength + WeightProductLength;

    [ThreadStatic]
    private static WeightGradientWork? t_weightGradient;

    /// <summary>
    /// <c>dW += ∂L/∂W</c> for <paramref name="batch"/> samples of input <paramref name="x"/> and output gradient
    /// <paramref name="dy"/> by the Winograd path; split by samples across the threads, each part summing its own dU, added
    /// together and transformed back here.
    /// </summary>
    private static void WinogradWeightGradientOf(float* x, float* dy, float* dWeight, int batch)
    {
        // The parts' dU summed, then dW[co, ci] += Gᵀ·dU·G.
        var total = (t_weightGradient ??= new WeightGradientWork()).Sum(x, dy, batch, WinogradGradientPartLength, WeightProductLength);
        int cin = TShape.InChannels, ld = PaddedGroupOut, planeLength = cin * ld;
        var du = stackalloc float[16];
        for (var co = 0; co < TShape.OutChannels; co++)
        {
            for (var ci = 0; ci < cin; ci++)
            {
                for (var e = 0; e < 16; e++)
                {
                    du[e] = total[(e * planeLength) + (ci * ld) + co];
                }

                BackTransform(du, dWeight + (((co * cin) + ci) * 9));
            }
        }
    }

    /// <summary><c>g += Gᵀ·u·G</c> for one 4×4 <paramref name="u"/> (e = 4·i + j) and 3×3 <paramref name="g"/>.</summary>
    private static void BackTransform(float* u, float* g)
    {
        // Gᵀ = [[1, ½, ½, 0], [0, ½, −½, 0], [0, ½, ½, 1]]: first down the columns (i), then along the rows (j).
        var t = stackalloc float[12];
        for (var j = 0; j < 4; j++)
        {
            float u0 = u[j], u1 = u[4 + j], u2 = u[8 + j], u3 = u[12 + j];
            t[j] = u0 + (0.5f * (u1 + u2));
            t[4 + j] = 0.5f * (u1 - u2);
            t[8 + j] = (0.5f * (u1 + u2)) + u3;
        }

        for (var r = 0; r < 3; r++)
        {
            float p0 = t[(4 * r) + 0], p1 = t[(4 * r) + 1], p2 = t[(4 * r) + 2], p3 = t[(4 * r) + 3];
            g[(3 * r) + 0] += p0 + (0.5f * (p1 + p2));
            g[(3 * r) + 1] += 0.5f * (p1 - p2);
            g[(3 * r) + 2] += (0.5f * (p1 + p2)) + p3;
        }
    }

    /// <summary>
    /// Sample <paramref name="s"/> of a block: its output gradient transposed to [position][channel] (channels padded to
    /// whole vectors, zeros), then for every tile <c>dM = A·dY·Aᵀ</c>, 16 channels per vector, into row s·tiles + tile of
    /// the 16 planes [tile][channel]: the layout the weight product multiplies without reducing across lanes.
    /// </summary>
    private static void TransformOutputGradient(float* dySample, int s, float* dm, float* transposed)
    {
        int ow = TShape.OutWidth, oh = TShape.OutHeight, ld = PaddedGroupOut, plane = GradientTransformedPlane, tw = TileColumns;
        Transpose.Matrix(dySample, TShape.OutChannels, OutSpatial, OutSpatial, transposed, ld);
        var zero = Vector512<float>.Zero;
        for (var ty = 0; ty < TileRows; ty++)
        {
            int y = 2 * ty;
            for (var tx = 0; tx < tw; tx++)
            {
                int x = 2 * tx;
                bool right = x + 1 < ow, below = y + 1 < oh;
                var p = transposed + (((y * ow) + x) * ld);
                var target = dm + (((s * TilesPerSample) + (ty * tw) + tx) * ld);
                for (var c = 0; c < ld; c += 16)
                {
                    // a b / c d: the tile's 2×2 output gradient (zeros where it overhangs the output).
                    var a = Vector512.Load(p + c);
                    var b = right ? Vector512.Load(p + ld + c) : zero;
                    var cc = below ? Vector512.Load(p + (ow * ld) + c) : zero;
                    var d = right && below ? Vector512.Load(p + ((ow + 1) * ld) + c) : zero;

                    // A·dY: rows [a, b], [a + c, b + d], [a − c, b − d], [−c, −d]; then each row [p, r] · Aᵀ = [p, p + r, p − r, −r].
                    Store(a, b, target + c, plane);
                    Store(a + cc, b + d, target + c + (4 * plane), plane);
                    Store(a - cc, b - d, target + c + (8 * plane), plane);
                    Store(-cc, -d, target + c + (12 * plane), plane);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Store(Vector512<float> p, Vector512<float> r, float* target, int step)
        {
            p.Store(target);
            (p + r).Store(target + step);
            (p - r).Store(target + (2 * step));
            (-r).Store(target + (3 * step));
        }
    }

    /// <summary>
    /// A Winograd weight-gradient call (F(2×2) and F(4×4)): each part sums the products of a contiguous range of samples into
    /// its own dU, the last <c>dULength</c> floats of its buffer, and <see cref="Sum"/> adds the parts' together.
    /// </summary>
    private abstract class WeightGradientParts : IParallelWork
    {
        public readonly nint[] Spaces = new nint[WorkerPool.Workers];
        public float* X;
        public float* Dy;
        public int Batch;

        public abstract void Execute(int part, int parts);

        /// <summary>Runs the parts on buffers of <paramref name="partLength"/> floats and returns the first part's dU, holding the sum of all.</summary>
        public float* Sum(float* x, float* dy, int batch, int partLength, int dULength)
        {
            var parts = Math.Min(batch, WorkerPool.Workers);
            for (var p = 0; p < parts; p++)
            {
                Spaces[p] = (nint)WinogradWorkspace.Rent(p, partLength);
            }

            X = x;
            Dy = dy;
            Batch = batch;
            WorkerPool.Run(this, parts);

            var offset = partLength - dULength;
            var total = (float*)Spaces[0] + offset;
            var sum = new Span<float>(total, dULength);
            for (var p = 1; p < parts; p++)
            {
                TensorPrimitives.Add(sum, new ReadOnlySpan<float>((float*)Spaces[p] + offset, dULength), sum);
            }

            return total;
        }
    }

    /// <summary>One F(2×2) weight-gradient call's state.</summary>
    private sealed class WeightGradientWork : WeightGradientParts
    {
        public override void Execute(int part, int parts)
        {
            var v = (float*)Spaces[part];
            var dm = v + TransformedLength;
            var bordered = dm + (16 * GradientTransformedPlane);
            var transposed = bordered + WinogradBorderedLength;
            var du = transposed + TransposedGradientLength;
            new Span<float>(du, WeightProductLength).Clear();

            // The transposed gradient's padding channels stay zero (Transpose writes only real channels).
            new Span<float>(transposed, TransposedGradientLength).Clear();
            int cin = TShape.InChannels, cout = TShape.OutChannels, ld = PaddedGroupOut;
            var (from, to) = (Batch * part / parts, Batch * (part + 1) / parts);
            for (var n = from; n < to; n += WinogradSamples)
            {
                var count = Math.Min(WinogradSamples, to - n);
                for (var s = 0; s < count; s++)
                {
                    TransformInput(X + ((n + s) * cin * InSpatial), s, v, bordered, 0, TileRows);
                    TransformOutputGradient(Dy + ((n + s) * cout * OutSpatial), s, dm, transposed);
                }

                var tiles = count * TilesPerSample;
                for (var e = 0; e < 16; e++)
                {
                    Gemm.MultiplyNN(cin, ld, tiles, v + (e * TransformedPlane), TransformedStride, dm + (e * GradientTransformedPlane), ld, du + (e * cin * ld), ld, accumulate: true);
                }
            }
        }
    }
}
