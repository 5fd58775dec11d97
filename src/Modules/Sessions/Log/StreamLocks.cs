using System.Collections.Concurrent;

namespace Conclave.Sessions.Log;

/// <summary>
/// Serialises appends to one session within this process, so concurrent writers (the API and a
/// run) queue instead of failing on the stream's optimistic version check.
/// </summary>
internal sealed class StreamLocks
{
    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> _locks = new();

    public async Task<IDisposable> AcquireAsync(Guid streamId, CancellationToken cancellationToken)
    {
        var gate = _locks.GetOrAdd(streamId, static _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        return new Releaser(gate);
    }

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
