using PruneGen.Kernels;

namespace PruneGen.Tests.Numerics;

/// <summary>
/// <see cref="WorkerPool"/>'s handoff: every part of every call runs exactly once, back to back, after a pause,
/// when a call has fewer parts than there are workers, and inside and between bursts (spinning workers); a failing
/// part is rethrown and the pool keeps working. The pool is one per process, so these run alone (their own collection,
/// not in parallel with other tests): other tests' forward passes open bursts too, and one of them counted a pile-up of
/// wake-ups that those bursts had left (15 pending after 5 000 calls, in a CI run on a loaded machine).
/// </summary>
[Collection(nameof(WorkerPoolTests))]
public sealed class WorkerPoolTests
{
    private sealed class Counting : IParallelWork
    {
        public int[] Runs { get; } = new int[64];

        public void Execute(int part, int parts) => Interlocked.Increment(ref Runs[part]);
    }

    [Fact]
    public void EveryPartRunsOnce_BackToBack_AfterASleep_AndWithFewerParts()
    {
        var work = new Counting();
        var workers = WorkerPool.Workers;
        var expected = new int[64];
        for (var call = 0; call < 3000; call++)
        {
            var parts = 1 + (call % workers);
            WorkerPool.Run(work, parts);
            for (var p = 0; p < parts; p++)
            {
                expected[p]++;
            }

            // Now and then pause, so the workers are blocked when the next call comes.
            if (call % 500 == 499)
            {
                Thread.Sleep(5);
            }
        }

        Assert.Equal(expected, work.Runs);
    }

    [Fact]
    public void EveryPartRunsOnce_InBurstsAndBetweenThem_FromTwoThreads()
    {
        // Workers spin during a burst and sleep between bursts; calls switch between the two modes, two threads
        // open and close bursts independently, and no part may be lost (a lost wake-up would hang here) or repeated.
        var works = new[] { new Counting(), new Counting() };
        var counts = new int[2][];
        Parallel.For(0, 2, t =>
        {
            counts[t] = new int[64];
            for (var call = 0; call < 2000; call++)
            {
                var parts = 1 + (call % WorkerPool.Workers);
                using (WorkerPool.Burst(call % 3 == 0 ? 0 : long.MaxValue))
                {
                    WorkerPool.Run(works[t], parts);
                }

                for (var p = 0; p < parts; p++)
                {
                    counts[t][p]++;
                }

                if (call % 400 == 399)
                {
                    Thread.Sleep(2);
                }
            }
        });

        Assert.Equal(counts[0], works[0].Runs);
        Assert.Equal(counts[1], works[1].Runs);
    }

    [Fact]
    public void ALongBurstDoesNotPileUpWakeUps()
    {
        // A burst that outlives many calls (as overlapping passes on several threads would keep one open): every
        // call releases its workers' semaphores, and the spinning workers must take those releases back.
        var work = new Counting();
        using (WorkerPool.Burst(long.MaxValue))
        {
            for (var call = 0; call < 5000; call++)
            {
                WorkerPool.Run(work, WorkerPool.Workers);
            }

            Assert.True(WorkerPool.PendingReleases <= 2, $"{WorkerPool.PendingReleases} wake-ups pending after 5 000 calls in one burst.");
        }
    }

    [Fact]
    public void AFailingPartIsRethrown_AndThePoolKeepsWorking()
    {
        // On a worker thread the failure comes back wrapped; when another test holds the pool, the parts run on
        // this thread and it comes back as it is.
        var e = Assert.ThrowsAny<Exception>(() => WorkerPool.Run(new Failing(), WorkerPool.Workers));
        Assert.IsType<InvalidOperationException>(e is AggregateException a ? a.InnerException : e);

        var work = new Counting();
        WorkerPool.Run(work, WorkerPool.Workers);
        Assert.All(work.Runs.Take(WorkerPool.Workers), r => Assert.Equal(1, r));
    }

    private sealed class Failing : IParallelWork
    {
        public void Execute(int part, int parts)
        {
            if (part == parts - 1)
            {
                throw new InvalidOperationException("part failed");
            }
        }
    }
}

/// <summary>The collection of <see cref="WorkerPoolTests"/>: run after the parallel tests, alone.</summary>
[CollectionDefinition(nameof(WorkerPoolTests), DisableParallelization = true)]
public sealed class WorkerPoolTestsCollection;
