using System.Runtime.CompilerServices;
using Conclave.Sessions.Contracts;
using Conclave.Sessions.Log;

namespace Conclave.Sessions.Live;

/// <summary>
/// Catch-up then live, with no gap and no duplicate whatever it races with: subscribe to the hub
/// first (it buffers), read the store after the client's version, then drain the buffer, skipping
/// what was already sent and reading the store again for any gap (events published out of order).
/// The store is read page by page, so a catch-up of a long session never holds it whole.
/// </summary>
internal sealed class SessionFeed(LiveHub hub, SessionLog log) : ISessionFeed
{
    public async IAsyncEnumerable<FeedItem> SubscribeAsync(
        Guid sessionId,
        long afterVersion,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var subscription = hub.Subscribe(sessionId);
        var lastSent = afterVersion;
        var finishedMessages = new HashSet<Guid>(); // message and run ids whose streamed text is over

        await foreach (var e in log.ReadAllAsync(sessionId, lastSent, cancellationToken))
        {
            Track(e, finishedMessages);
            lastSent = e.Version;
            yield return new FeedEvent(e);
        }

        foreach (var partial in subscription.Partials.Where(p => !IsOver(p.MessageId, p.RunId, finishedMessages)))
        {
            yield return partial;
        }

        await foreach (var item in subscription.Reader.ReadAllAsync(cancellationToken))
        {
            switch (item)
            {
                case FeedEvent { Event.Version: var version } when version <= lastSent:
                    continue;
                case FeedEvent { Event: var e }:
                    if (e.Version > lastSent + 1)
                    {
                        await foreach (var missed in log.ReadAllAsync(sessionId, lastSent, cancellationToken))
                        {
                            if (missed.Version >= e.Version)
                            {
                                break;
                            }

                            Track(missed, finishedMessages);
                            lastSent = missed.Version;
                            yield return new FeedEvent(missed);
                        }
                    }

                    Track(e, finishedMessages);
                    lastSent = e.Version;
                    yield return item;
                    break;
                case FeedDelta delta when IsOver(delta.MessageId, delta.RunId, finishedMessages):
                    continue;
                default:
                    yield return item;
                    break;
            }
        }
    }

    private static void Track(SessionEvent e, HashSet<Guid> finished)
    {
        switch (e.Data)
        {
            case AgentMessageCompleted completed:
                finished.Add(completed.MessageId);
                break;
            case IRunEnded ended:
                finished.Add(ended.RunId);
                break;
        }
    }

    private static bool IsOver(Guid messageId, Guid runId, HashSet<Guid> finished) =>
        finished.Contains(messageId) || finished.Contains(runId);
}
