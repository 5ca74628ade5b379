using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace PruneGen.Kernels;

/// <summary>
/// The input gradient of a strided layer on the broadcast path (see Conv2DKernel.Broadcast.cs), as the forward's runs in
/// reverse: for each tap (kh, kw) and run of output positions, 16 input channels' <c>Σ_co dy[co, p] · W[co, c, kh, kw]</c>
/// (the output gradient broadcast, the tap's weights of 16 input channels loaded) are added into a stage of the bordered
/// input gradient, 16 floats per input position, at <c>p·stride + (kh, kw)</c>. The stage is transposed into planes and
/// their interior added onto dx. Through im2col the same gradient was a transposed product of the columns followed by a
/// one-float-at-a-time scatter of every column entry (col2im).
/// </summary>
public static unsafe partial class Conv2DKernel<TShape>
{
    /// <summary>Whether the input gradient takes the broadcast path: whenever the forward does.</summary>
    private static bool BroadcastInputGradient => BroadcastShape;

    /// <summary>Blocks of 16 input channels of the input gradient (the last one padded with zero weights).</summary>
    private static int InputBlocks => (TShape.InChannels + 15) / 16;

    /// <summary>Floats of one bordered input plane, the size of the stage's rows (16 floats each) and of each transposed plane.</summary>
    private static int BorderedPlane => BorderedHeight * BorderedWidth;

    /// <summary>Offset of output channel co's plane in one sample's output gradient (the gradient runs' taps).</summary>
    private static readonly int[] GradientRunTaps = CreateGradientRunTaps();

    private static int[] CreateGradientRunTaps()
    {
        var taps = new int[TShape.OutChannels];
        for (var co = 0; co < taps.Length; co++)
        {
            taps[co] = co * OutSpatial;
        }

        return taps;
    }

    [ThreadStatic]
    private static float[]? t_packedGradient;

    /// <summary>
    /// Before the parts run: the weights packed as [input block][kh, kw][co][16 input channels] (zero lanes past the last
    /// channel) and each part's stage and transposed planes.
    /// </summary>
    private static void BroadcastGradientPrepare(BackwardWork work, float* weight, int parts)
    {
        int taps = TShape.Kernel * TShape.Kernel, cout = TShape.OutChannels;
        var packed = t_packedGradient ??= GC.AllocateArray<float>(InputBlocks * taps * cout * 16, pinned: true);
        work.PackedGradient = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(packed));
        for (var co = 0; co < cout; co++)
        {
            for (var c = 0; c < TShape.InChannels; c++)
            {
                var source = weight + (co * PatchLength) + (c * taps);
                var target = work.PackedGradient + (((((c / 16 * taps) * cout) + co) * 16) + (c % 16));
                for (var t = 0; t < taps; t++)
                {
                    target[t * cout * 16] = source[t];
                }
            }
        }

        for (var p = 0; p < parts; p++)
        {
            work.Stages[p] = (nint)WinogradWorkspace.Rent(p, 32 * BorderedPlane);
        }
    }

    /// <summary>dx += the input gradient of one sample from its output gradient <paramref name="dOut"/>, in the part's <paramref name="stage"/>.</summary>
    private static void BroadcastGradient(float* packed, float* dOut, float* dInput, float* stage)
    {
        int k = TShape.Kernel, taps = k * k, s = TShape.Stride, bw = BorderedWidth, ow = TShape.OutWidth, plane = BorderedPlane;
        int h = TShape.InHeight, wd = TShape.InWidth, pad = TShape.Padding;
        var planes = stage + (16 * plane);
        fixed (int* offsets = GradientRunTaps)
        {
            for (var b = 0; b < InputBlocks; b++)
            {
                new Span<float>(stage, 16 * plane).Clear();
                for (var t = 0; t < taps; t++)
                {
                    var weights = packed + (((b * taps) + t) * TShape.OutChannels * 16);
                    var tap = (((t / k) * bw) + (t % k)) * 16;
                    for (var g = 0; g < RunRowGroups; g++)
                    {
                        // A run moved back from the plane's edge skips the positions the previous run already added.
                        var row = Math.Min(g * RunRows, TShape.OutHeight - RunRows);
                        for (var j = 0; j < RunColumns; j++)
                        {
                            var column = Math.Min(j * RunWidth, ow - RunWidth);
                            var skip = (((g * RunRows) - row) * RunWidth) + (j * RunWidth) - column;
                            var target = stage + (((row * s * bw) + (column * s)) * 16) + tap;
                            Run<GradientRun, Vector512<float>, Lanes16>(dOut + (row * ow) + column, weights, offsets, TShape.OutChannels, target, Vector512<float>.Zero, Vector512<float>.Zero, relu: false, skip);
                        }
                    }
                }

                // The stage's rows (bordered positions) become planes; their interior is the gradient of the block's channels.
                var channels = Math.Min(16, TShape.InChannels - (16 * b));
                Transpose.Matrix(stage, plane, channels, 16, planes, plane);
                for (var c = 0; c < channels; c++)
                {
                    for (var y = 0; y < h; y++)
                    {
                        var run = new Span<float>(dInput + (((((16 * b) + c) * h) + y) * wd), wd);
                        System.Numerics.Tensors.TensorPrimitives.Add(run, new ReadOnlySpan<float>(planes + (c * plane) + ((y + pad) * bw) + pad, wd), run);
                    }
                }
            }
        }
    }
}
