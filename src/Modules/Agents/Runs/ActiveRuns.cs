using System.Collections.Concurrent;

namespace Conclave.Agents.Runs;

/// <summary>The runs executing on this node, each with the token that stops it.</summary>
public sealed class ActiveRuns
{
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _runs = new();

    internal IDisposable Register(Guid runId, CancellationTokenSource stop)
    {
        _runs[runId] = stop;
        return new Registration(() => _runs.TryRemove(new KeyValuePair<Guid, CancellationTokenSource>(runId, stop)));
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
