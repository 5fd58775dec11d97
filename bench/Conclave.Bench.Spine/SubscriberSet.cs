using System.Diagnostics;
using System.Globalization;
using Conclave.Testing.Host;

namespace Conclave.Bench.Spine;

/// <summary>
/// N SSE clients reading one session's log from <c>baseVersion</c>: reading <c>baseVersion</c> itself
/// (from the store) counts as connected; event n (1..total, version baseVersion + n) is stamped with when
/// each client read it. Appenders wait for each event with <see cref="Expect"/> + <see cref="DeliveredAsync"/>.
/// </summary>
internal sealed class SubscriberSet
{
    private readonly IReadOnlyList<HttpClient> _clients;
    private readonly Guid _sessionId;
    private readonly long _baseVersion;
    private readonly int _total;
    private readonly Countdown _connected;
    private readonly TaskCompletionSource _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Task> _readers;
    private Countdown _delivered;

    public SubscriberSet(IReadOnlyList<HttpClient> clients, Guid sessionId, long baseVersion, int total)
    {
        (_clients, _sessionId, _baseVersion, _total) = (clients, sessionId, baseVersion, total);
        _connected = new Countdown(clients.Count);
        _delivered = new Countdown(clients.Count);
        ReadAt = Enumerable.Range(0, clients.Count).Select(_ => new long[total]).ToArray();
        _readers = Enumerable.Range(0, clients.Count).Select(s => Task.Run(() => ReadAsync(s))).ToList();
    }

    /// <summary>[subscriber][event - 1]: the timestamp at which the subscriber read the event.</summary>
    public long[][] ReadAt { get; }

    public Task ConnectedAsync(string what) => _connected.WaitAsync(_failed.Task, what);

    /// <summary>Before appending the next event: every subscriber is to read it.</summary>
    public void Expect() => Volatile.Write(ref _delivered, new Countdown(_clients.Count));

    public Task DeliveredAsync(string what) => Volatile.Read(ref _delivered).WaitAsync(_failed.Task, what);

    /// <summary>Until every client has read the last event; then the clients are disposed.</summary>
    public async Task FinishAsync()
    {
        await Task.WhenAll(_readers);
        foreach (var client in _clients)
        {
            client.Dispose();
        }
    }

    private async Task ReadAsync(int s)
    {
        try
        {
            await foreach (var item in SseClient.ReadAsync(_clients[s], _sessionId, lastEventId: _baseVersion - 1, CancellationToken.None))
            {
                var now = Stopwatch.GetTimestamp();
                if (item.EventType != "log")
                {
                    continue;
                }

                var n = long.Parse(item.EventId!, CultureInfo.InvariantCulture) - _baseVersion;
                if (n == 0)
                {
                    _connected.Signal();
                    continue;
                }

                ReadAt[s][n - 1] = now;
                Volatile.Read(ref _delivered).Signal();
                if (n == _total)
                {
                    break;
                }
            }
        }
        catch (Exception e)
        {
            _failed.TrySetException(e);
            throw;
        }
    }
}
