using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Conclave.Knowledge.Embedding;

/// <summary>
/// Dedicated threads for ingest embedding, each at the lowest CPU priority Linux has (<c>SCHED_IDLE</c>, and a
/// <c>nice</c> value for tools that show only that), set per thread: they use every core nobody else wants,
/// and the scheduler gives a core back to runs, HTTP and queries (normal priority) the moment those want it.
/// Bench.Knowledge measures how much runs are slowed.
/// </summary>
internal sealed class EmbeddingWorkers : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();

    public EmbeddingWorkers(int threads, int nice)
    {
        Threads = threads;
        for (var i = 0; i < threads; i++)
        {
            new Thread(() => Serve(nice)) { IsBackground = true, Name = $"conclave-embedding-{i}" }.Start();
        }
    }

    public int Threads { get; }

    /// <summary>How many worker threads lowered their priority (nice and SCHED_IDLE; 0 where the OS does not allow it).</summary>
    public int Lowered => Volatile.Read(ref _lowered);

    private int _lowered;

    public Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            if (cancellationToken.IsCancellationRequested)
            {
                done.TrySetCanceled(cancellationToken);
                return;
            }

            try
            {
                done.TrySetResult(work());
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                done.TrySetCanceled(cancellationToken);
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
        }, CancellationToken.None);
        return done.Task;
    }

    private void Serve(int nice)
    {
        if (TryLowerPriority(nice))
        {
            Interlocked.Increment(ref _lowered);
        }

        foreach (var work in _work.GetConsumingEnumerable())
        {
            work();
        }
    }

    private static bool TryLowerPriority(int nice)
    {
        if (nice <= 0 || !OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            // On Linux a nice value and a scheduling policy belong to a thread (its tid), not to the whole process.
            // SCHED_IDLE: the thread runs only when a core has nothing else to run, and anything woken preempts it
            // at once; nice alone still let runs wait behind embedding (the bench's step overhead doubled).
            var niced = SetPriority(ProcessWhich, GetThreadId(), nice) == 0;
            var priority = 0;
            var idle = SetScheduler(0, SchedIdle, ref priority) == 0;
            return niced && idle;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    private const int ProcessWhich = 0; // PRIO_PROCESS
    private const int SchedIdle = 5; // SCHED_IDLE

    // DllImport, not LibraryImport: plain ints need no marshalling code, and the module stays free of unsafe code.
    [DllImport("libc", EntryPoint = "setpriority")]
    private static extern int SetPriority(int which, int who, int priority);

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetThreadId();

    // struct sched_param is one int (the static priority, 0 for SCHED_IDLE); pid 0 is the calling thread.
    [DllImport("libc", EntryPoint = "sched_setscheduler")]
    private static extern int SetScheduler(int pid, int policy, ref int parameter);

    public void Dispose() => _work.CompleteAdding();
}
