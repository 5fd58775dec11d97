using System.Diagnostics.Metrics;

namespace Conclave.Sessions.Telemetry;

/// <summary>
/// The module's instruments, on the meter <c>Conclave.Sessions</c>: what the run lifecycle (leases, the
/// reaper, quotas) and the live feed know.
/// </summary>
internal sealed class SessionMetrics
{
    public const string MeterName = "Conclave.Sessions";

    private readonly Counter<long> _leasesRequeued;
    private readonly Counter<long> _runsOrphaned;
    private readonly Counter<long> _quotaRefusals;
    private readonly UpDownCounter<long> _subscribers;
    private readonly Histogram<double> _feedLag;
    private long _queued;
    private long _running;

    public SessionMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _leasesRequeued = meter.CreateCounter<long>(
            "conclave.run.leases.requeued", description: "Runs whose node stopped renewing their lease, queued again by the reaper.");
        _runsOrphaned = meter.CreateCounter<long>(
            "conclave.runs.orphaned", description: "Runs failed as orphaned: their node stopped responding more often than allowed.");
        _quotaRefusals = meter.CreateCounter<long>(
            "conclave.quota.refusals", description: "Messages refused by a quota, by quota (concurrent_runs, daily_tokens, daily_cost).");
        _subscribers = meter.CreateUpDownCounter<long>(
            "conclave.live.sse.subscribers", description: "Server-sent event streams open on this node.");
        _feedLag = meter.CreateHistogram<double>(
            "conclave.live.feed.lag", unit: "s", description: "Time from an event's append to its delivery to a server-sent event client (live events only, not a catch-up's).");

        // Counters that stay at zero on a healthy installation exist from the start: rate() and increase() see their
        // first increment only against an earlier sample, and a dashboard shows 0 rather than "no data".
        _leasesRequeued.Add(0);
        _runsOrphaned.Add(0);
        foreach (var quota in QuotaNames)
        {
            _quotaRefusals.Add(0, new KeyValuePair<string, object?>("quota", quota));
        }

        _subscribers.Add(0);
        // Of the whole installation (the runs' read model), as of the reaper's last sweep on this node.
        meter.CreateObservableGauge("conclave.runs.queued", () => Volatile.Read(ref _queued), description: "Runs queued and not yet started.");
        meter.CreateObservableGauge("conclave.runs.running", () => Volatile.Read(ref _running), description: "Runs started and not ended or paused.");
    }

    /// <summary>The quotas a message can be refused by (the <c>quota</c> label).</summary>
    public static readonly IReadOnlyList<string> QuotaNames = ["concurrent_runs", "daily_tokens", "daily_cost"];

    public void LeaseRequeued() => _leasesRequeued.Add(1);

    public void RunOrphaned() => _runsOrphaned.Add(1);

    public void QuotaRefused(string quota) => _quotaRefusals.Add(1, new KeyValuePair<string, object?>("quota", quota));

    public IDisposable SubscriberConnected()
    {
        _subscribers.Add(1);
        return new Subscription(_subscribers);
    }

    /// <summary>Measures, for one SSE client, the lag of the events appended while it is connected.</summary>
    public FeedLagProbe FeedLag(TimeProvider clock) => new(_feedLag, clock);

    public void RunsCounted(long queued, long running)
    {
        Volatile.Write(ref _queued, queued);
        Volatile.Write(ref _running, running);
    }

    private sealed class Subscription(UpDownCounter<long> subscribers) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                subscribers.Add(-1);
            }
        }
    }
}
