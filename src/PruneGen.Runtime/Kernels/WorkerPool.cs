using System;
using System.Threading;

namespace PruneGen.Kernels;

/// <summary>A piece of kernel work split into parts that run on different cores.</summary>
public interface IParallelWork
{
    /// <summary>Runs part <paramref name="part"/> of <paramref name="parts"/>.</summary>
    void Execute(int part, int parts);
}

/// <summary>
/// Fixed background threads that run kernel work beside the calling thread. Kernels split a batch
/// across them (each part with its own scratch), so both cores of a small machine work on one
/// forward or backward pass. Unlike <c>Parallel.For</c> a call allocates nothing: the work object
/// is reused, and threads are woken with semaphores, or find the next call while spinning during a
/// <see cref="Burst"/> (a generated forward pass opens one). The number of threads is
/// <see cref="Environment.ProcessorCount"/>, or <c>PRUNEGEN_THREADS</c> when set (1 disables threading).
/// </summary>
public static class WorkerPool
{
    private static readonly object Gate = new();
    private static readonly SemaphoreSlim[] Wake;
    private static IParallelWork? _work;
    private static int _parts;
    private static int _remaining;
    private static readonly int[] Assigned;
    private static int _job;
    private static int _bursts;
    private static Exception? _failure;

    static WorkerPool()
    {
        Workers = Choose(Environment.GetEnvironmentVariable("PRUNEGEN_THREADS"), Environment.ProcessorCount);
        Wake = new SemaphoreSlim[Workers - 1];
        Assigned = new int[Workers];
        for (var i = 0; i < Wake.Length; i++)
        {
            var index = i + 1;
            Wake[i] = new SemaphoreSlim(0);
            var thread = new Thread(() => Loop(index)) { IsBackground = true, Name = $"PruneGen worker {index}" };
            thread.Start();
        }
    }

    /// <summary>Threads that work on one kernel call, the caller included.</summary>
    public static int Workers { get; }

    internal static int Choose(string? requested, int processors) =>
        int.TryParse(requested, out var n) && n >= 1 ? Math.Min(n, 64) : Math.Clamp(processors, 1, 64);

    /// <summary>
    /// Runs <paramref name="work"/> in <paramref name="parts"/> parts (at most <see cref="Workers"/>),
    /// part 0 on the calling thread, and returns when all are done. If another thread is already
    /// using the pool, the parts run one after another on the caller instead of waiting.
    /// </summary>
    public static void Run(IParallelWork work, int parts)
    {
        parts = Math.Clamp(parts, 1, Workers);
        if (parts == 1 || !Monitor.TryEnter(Gate))
        {
            for (var p = 0; p < parts; p++)
            {
                work.Execute(p, parts);
            }

            return;
        }

        try
        {
            _work = work;
            _parts = parts;
            _failure = null;
            Volatile.Write(ref _remaining, parts - 1);
            var job = Interlocked.Increment(ref _job);
            for (var p = 1; p < parts; p++)
            {
                // Each part's worker gets the job's ticket, so a worker runs only jobs it is part of, each once. A worker
                // spinning in a burst sees its ticket without the release; the count that leaves only makes a later
                // wait return at once, and the worker finds no new ticket and waits again.
                Volatile.Write(ref Assigned[p], job);
                Wake[p - 1].Release();
            }

            try
            {
                work.Execute(0, parts);
            }
            finally
            {
                var spin = default(SpinWait);
                while (Volatile.Read(ref _remaining) > 0)
                {
                    spin.SpinOnce(sleep1Threshold: -1);
                }

                _work = null;
            }

            if (_failure is { } failure)
            {
                throw new AggregateException("A PruneGen kernel failed on a worker thread.", failure);
            }
        }
        finally
        {
            Monitor.Exit(Gate);
        }
    }

    /// <summary>The most releases any worker's semaphore holds (tests: bursts must not pile them up).</summary>
    internal static int PendingReleases
    {
        get
        {
            var most = 0;
            foreach (var wake in Wake)
            {
                most = Math.Max(most, wake.CurrentCount);
            }

            return most;
        }
    }

    /// <summary>Multiply-adds of a pass below which a burst costs more (one wake-up) than it saves.</summary>
    public const long BurstMacs = 2_000_000;

    /// <summary>
    /// For a pass of <paramref name="macs"/> multiply-adds (at least <see cref="BurstMacs"/>), keeps the worker threads
    /// spinning for work, instead of sleeping, until the returned scope is disposed: the pass hands each layer to the
    /// workers without a wake-up per layer, which costs 37 µs (median) on the 2-vCPU virtual machine this was measured
    /// on, as much as a whole small layer. The workers sleep again when the last burst ends.
    /// </summary>
    public static BurstScope Burst(long macs)
    {
        if (Wake.Length == 0 || macs < BurstMacs)
        {
            return default;
        }

        if (Interlocked.Increment(ref _bursts) == 1)
        {
            for (var i = 0; i < Wake.Length; i++)
            {
                Wake[i].Release();
            }
        }

        return new BurstScope(started: true);
    }

    /// <summary>
    /// Whether a <see cref="Burst"/> is open, so the workers are spinning: a call handed to them now costs no wake-up
    /// (37 µs median when they sleep), and kernels split smaller calls.
    /// </summary>
    public static bool Spinning => Volatile.Read(ref _bursts) > 0 && Wake.Length > 0;

    /// <summary>Ends a <see cref="Burst"/>.</summary>
    public readonly struct BurstScope : IDisposable
    {
        private readonly bool _started;

        internal BurstScope(bool started) => _started = started;

        /// <inheritdoc />
        public void Dispose()
        {
            if (_started)
            {
                Interlocked.Decrement(ref _bursts);
            }
        }
    }

    private static void Loop(int index)
    {
        var seen = 0;
        var spin = default(SpinWait);
        while (true)
        {
            var job = Volatile.Read(ref Assigned[index]);
            if (job == seen)
            {
                if (Volatile.Read(ref _bursts) == 0)
                {
                    Wake[index - 1].Wait();
                    continue;
                }

                // A count left on the semaphore while spinning belongs to a job already taken: the caller writes the
                // ticket before it releases (a sleeping worker must find the ticket when it wakes), so a spinning worker
                // can run the job before the release comes and its Wait(0) below finds nothing. Take it back here, or a
                // long burst piles them up (CI, under load: 10 pending after 5 000 calls). A release whose ticket this
                // worker has not seen yet may be taken instead; its job's Wait(0) then finds nothing, so the counts still
                // balance.
                if (Wake[index - 1].CurrentCount > 0)
                {
                    Wake[index - 1].Wait(0);
                }

                // Spin, yielding now and then to other threads of this core (never sleeping a whole millisecond).
                spin.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            spin.Reset();
            seen = job;

            // Take this job's release if a spinning worker left it, so bursts that never end (callers on many threads)
            // cannot pile up counts on the semaphore.
            Wake[index - 1].Wait(0);
            try
            {
                _work!.Execute(index, _parts);
            }
            catch (Exception ex)
            {
                _failure = ex;
            }
            finally
            {
                Interlocked.Decrement(ref _remaining);
            }
        }
    }
}
