using System;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace PruneGen.Kernels;

// The element-wise passes that a training step runs over whole activation tensors (ReLU, Add and their gradients),
// split across the WorkerPool threads when large: on one thread they left the second core idle in a two-thread step.
public static unsafe partial class ElementwiseKernels
{
    /// <summary>
    /// Floats from which a pass is split across the threads (1 MB: about 60 µs of one pass, against the tens of
    /// microseconds that waking a sleeping worker costs).
    /// </summary>
    private const int ParallelFloats = 256 * 1024;

    [ThreadStatic]
    private static PassWork? t_pass;

    /// <summary>y = max(x, 0).</summary>
    public static void ReLU(ReadOnlySpan<float> x, Span<float> y)
    {
        fixed (float* px = x, py = y.Slice(0, x.Length))
        {
            Pass(Operation.ReLU, px, null, py, x.Length);
        }
    }

    /// <summary>y = a + b.</summary>
    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        fixed (float* pa = a, pb = b.Slice(0, a.Length), py = y.Slice(0, a.Length))
        {
            Pass(Operation.Add, pa, pb, py, a.Length);
        }
    }

    /// <summary><c>dx += dy</c> (an input's share of a sum's gradient).</summary>
    public static void Accumulate(ReadOnlySpan<float> dy, Span<float> dx)
    {
        fixed (float* pdy = dy.Slice(0, dx.Length), pdx = dx)
        {
            Pass(Operation.Accumulate, pdy, null, pdx, dx.Length);
        }
    }

    /// <summary>Backward of <c>y = max(x, 0)</c>: <c>dx += dy</c> where y &gt; 0.</summary>
    public static void ReLUBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        fixed (float* py = y, pdy = dy.Slice(0, y.Length), pdx = dx.Slice(0, y.Length))
        {
            Pass(Operation.ReLUBackward, py, pdy, pdx, y.Length);
        }
    }

    private static void Pass(Operation operation, float* a, float* b, float* y, int length)
    {
        if (length < ParallelFloats || WorkerPool.Workers == 1)
        {
            Apply(operation, a, b, y, 0, length);
            return;
        }

        var work = t_pass ??= new PassWork();
        work.Operation = operation;
        work.A = a;
        work.B = b;
        work.Y = y;
        work.Length = length;
        WorkerPool.Run(work, WorkerPool.Workers);
    }

    /// <summary>Elements <paramref name="from"/> to <paramref name="to"/> − 1 of one pass.</summary>
    private static void Apply(Operation operation, float* a, float* b, float* y, int from, int to)
    {
        var n = to - from;
        var dst = new Span<float>(y + from, n);
        switch (operation)
        {
            case Operation.ReLU:
                TensorPrimitives.Max(new ReadOnlySpan<float>(a + from, n), 0f, dst);
                break;
            case Operation.Add:
                TensorPrimitives.Add(new ReadOnlySpan<float>(a + from, n), new ReadOnlySpan<float>(b + from, n), dst);
                break;
            case Operation.Accumulate:
                TensorPrimitives.Add(dst, new ReadOnlySpan<float>(a + from, n), dst);
                break;
            default:
                ReLUBackwardRun(a + from, b + from, y + from, n);
                break;
        }
    }

    /// <summary><c>dx[i] += y[i] &gt; 0 ? dy[i] : 0</c>, 16 at a time where the hardware has 512-bit vectors.</summary>
    private static void ReLUBackwardRun(float* y, float* dy, float* dx, int count)
    {
        var i = 0;
        if (Simd.Level == SimdLevel.Vector512)
        {
            for (; i + 16 <= count; i += 16)
            {
                var open = Vector512.GreaterThan(Vector512.Load(y + i), Vector512<float>.Zero);
                (Vector512.Load(dx + i) + (Vector512.Load(dy + i) & open)).Store(dx + i);
            }
        }
        else if (Simd.Level == SimdLevel.Vector256)
        {
            for (; i + 8 <= count; i += 8)
            {
                var open = Vector256.GreaterThan(Vector256.Load(y + i), Vector256<float>.Zero);
                (Vector256.Load(dx + i) + (Vector256.Load(dy + i) & open)).Store(dx + i);
            }
        }

        for (; i < count; i++)
        {
            if (y[i] > 0)
            {
                dx[i] += dy[i];
            }
        }
    }

    private enum Operation
    {
        ReLU,
        Add,
        Accumulate,
        ReLUBackward,
    }

    /// <summary>One split pass; each part takes a contiguous run of whole 16-float vectors.</summary>
    private sealed class PassWork : IParallelWork
    {
        public Operation Operation;
        public float* A;
        public float* B;
        public float* Y;
        public int Length;

        public void Execute(int part, int parts)
        {
            int from = (int)((long)Length * part / parts) & ~15, to = part == parts - 1 ? Length : (int)((long)Length * (part + 1) / parts) & ~15;
            Apply(Operation, A, B, Y, from, to);
        }
    }
}
