using System.Diagnostics.Metrics;
using Conclave.Sessions.Contracts;

namespace Conclave.Sessions.Telemetry;

/// <summary>
/// The feed lag of one server-sent event client: from an event's time (taken as it is appended) to the flush that
/// sends it. Only events appended while the client is connected count: the old events of a catch-up are history,
/// not lag. Deltas and partial text carry no time and are not measured.
/// </summary>
internal sealed class FeedLagProbe(Histogram<double> lag, TimeProvider clock)
{
    private readonly DateTimeOffset _connected = clock.GetUtcNow();
    private readonly List<DateTimeOffset> _written = [];

    /// <summary>An item went into the response buffer.</summary>
    public void Written(FeedItem item)
    {
        if (item is FeedEvent { Event.At: var at } && at >= _connected)
        {
            _written.Add(at);
        }
    }

    /// <summary>The buffer went to the client: what was written since the last flush is delivered.</summary>
    public void Flushed()
    {
        if (_written.Count == 0)
        {
            return;
        }

        var now = clock.GetUtcNow();
        foreach (var at in _written)
        {
            lag.Record(Math.Max(0, (now - at).TotalSeconds));
        }

        _written.Clear();
    }
}
