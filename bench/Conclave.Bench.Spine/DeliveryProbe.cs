using System.Diagnostics;
using Marten;
using Marten.Services;

namespace Conclave.Bench.Spine;

/// <summary>
/// Timestamps (<see cref="Stopwatch.GetTimestamp"/>) taken inside the Host on the way from an append to
/// the SSE subscribers: when an append to the watched session committed (a Marten listener), and when
/// each subscriber's feed got an event from the live hub and when the SSE writer had written it
/// (<see cref="TimedSessionFeed"/>). A subscriber says who it is in the <see cref="SubscriberHeader"/>.
/// </summary>
internal sealed class DeliveryProbe : DocumentSessionListenerBase
{
    public const string SubscriberHeader = "X-Bench-Subscriber";

    private Guid _sessionId;
    private long _firstVersion;
    private long _lastCommitAt;

    public long[][] NotifiedAt { get; private set; } = [];

    public long[][] WrittenAt { get; private set; } = [];

    /// <summary>The commit of the latest append to the watched session.</summary>
    public long LastCommitAt => Volatile.Read(ref _lastCommitAt);

    /// <summary>Watches <paramref name="versions"/> events of a session from <paramref name="firstVersion"/> on, for each subscriber.</summary>
    public void Watch(Guid sessionId, int subscribers, long firstVersion, int versions)
    {
        NotifiedAt = NewTable(subscribers, versions);
        WrittenAt = NewTable(subscribers, versions);
        _firstVersion = firstVersion;
        _sessionId = sessionId;
    }

    public override Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token)
    {
        if (commit.GetStreams().Any(s => s.Id == _sessionId))
        {
            Volatile.Write(ref _lastCommitAt, Stopwatch.GetTimestamp());
        }

        return Task.CompletedTask;
    }

    public void Served(Guid sessionId, int subscriber, long version, long notifiedAt, long writtenAt)
    {
        var index = version - _firstVersion;
        if (sessionId != _sessionId || subscriber >= NotifiedAt.Length || index < 0 || index >= NotifiedAt[subscriber].Length)
        {
            return;
        }

        NotifiedAt[subscriber][index] = notifiedAt;
        WrittenAt[subscriber][index] = writtenAt;
    }

    private static long[][] NewTable(int subscribers, int versions) =>
        Enumerable.Range(0, subscribers).Select(_ => new long[versions]).ToArray();
}
