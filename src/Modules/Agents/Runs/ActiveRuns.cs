using System.Collections.Concurrent;

namespace Conclave.Agents.Runs;

/// <summary>The runs executing on this node, each with the token that stops it.</summary>
public sealed class ActiveRuns
{
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _runs = new();
    private TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal IDisposable Register(Guid runId, CancellationTokenSource stop)
    {
        _runs[runId] = stop;
        return new Registration(() =>
        {
            _runs.TryRemove(new KeyValuePair<Guid, CancellationTokenSource>(runId, stop));
            if (_runs.IsEmpty)
            {
                Interlocked.Exchange(ref _idle, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            }
        });
    }

    /// <summary>Completes when no run executes on this node (a draining node waits for its runs to hand on).</summary>
    internal async Task WaitUntilIdleAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var idle = Volatile.Read(ref _idle);
            if (_runs.IsEmpty)
            {
                return;
            }

            await idle.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Whether the run executes on this node now (its execution has not returned).</summary>
    internal bool IsExecuting(Guid runId) => _runs.ContainsKey(runId);

    /// <summary>Cancels the run if it executes here; false when it does not.</summary>
    internal bool TryCancel(Guid runId)
    {
        if (!_runs.TryGetValue(runId, out var stop))
        {
            return false;
        }

        try
        {
            stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // It ended while we looked: nothing left to stop.
        }

        return true;
    }

    private sealed class Registration(Action remove) : IDisposable
    {
        public void Dispose() => remove();
    }
}
