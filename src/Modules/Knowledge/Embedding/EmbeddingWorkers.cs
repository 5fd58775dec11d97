using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Conclave.Knowledge.Embedding;

/// <summary>
/// Dedicated threads for ingest embedding, each at a lower CPU priority (Linux <c>nice</c>, per thread):
/// they use every core nobody else wants, and the scheduler gives a core back to runs, HTTP and queries
/// (normal priority) as soon as those want it. Bench.Knowledge measures that runs are not slowed.
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

    /// <summary>How many worker threads lowered their priority (0 where the OS does not allow it).</summary>
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
            // On Linux a nice value belongs to a thread (its tid), not to the whole process.
            return SetPriority(ProcessWhich, GetThreadId(), nice) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    private const int ProcessWhich = 0; // PRIO_PROCESS

    // DllImport, not LibraryImport: plain ints need no marshalling code, and the module stays free of unsafe code.
    [DllImport("libc", EntryPoint = "setpriority")]
    private static extern int SetPriority(int which, int who, int priority);

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetThreadId();

    public void Dispose() => _work.CompleteAdding();
}
