using System.Collections.Concurrent;
using Conclave.Sessions.Contracts;
using Conclave.Sessions.Live;
using JasperFx;
using JasperFx.Events;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Wolverine;
using Wolverine.Marten;

namespace Conclave.Sessions.Log;

/// <summary>
/// The only writer of session streams. Appends with an expected version (so versions are known
/// before commit and a concurrent writer on another node is detected), sends a decision's messages
/// through the transactional outbox with its events, then hands the committed events to the live hub.
/// The same transaction NOTIFYs the other nodes (ADR 0015): PostgreSQL delivers it at commit, never for
/// an append that rolled back, and never lost between a commit and a crash.
/// </summary>
internal sealed class SessionStream(
    IDocumentStore store,
    IServiceScopeFactory scopes,
    LiveHub hub,
    SessionChanges changes,
    ThisNode node,
    ILogger<SessionStream> logger)
{
    private const int MaxAttempts = 5;
    private readonly StreamLocks _locks = new();
    private readonly ConcurrentDictionary<Guid, long> _knownVersions = new();

    /// <summary>
    /// Run → the stream version at which it was last seen active (checked, or its own step appended).
    /// While the stream is still at that version nothing can have ended the run, so the check is skipped.
    /// </summary>
    private readonly ConcurrentDictionary<Guid, long> _runActiveAt = new();

    /// <summary>
    /// Appends the decision's events to an existing stream, or starts it when <paramref name="start"/>
    /// is set, and sends its messages through the outbox in the same transaction.
    /// <paramref name="whileRunActive"/>: only while that run has not ended (else <see cref="RunAlreadyEndedException"/>).
    /// </summary>
    public async Task<IReadOnlyList<SessionEvent>> AppendAsync(
        Guid sessionId,
        Decision decision,
        CancellationToken cancellationToken,
        bool start = false,
        Guid? whileRunActive = null)
    {
        var events = decision.Events;
        if (events.Count == 0)
        {
            return [];
        }

        using var _ = await _locks.AcquireAsync(sessionId, cancellationToken);
        for (var attempt = 1; ; attempt++)
        {
            await using var scope = scopes.CreateAsyncScope();
            await using var session = store.LightweightSession();
            long current;
            if (start)
            {
                current = 0;
                session.Events.StartStream(sessionId, events);
            }
            else
            {
                current = await CurrentVersionAsync(session, sessionId, cancellationToken);
                if (whileRunActive is { } runId
                    && _runActiveAt.GetValueOrDefault(runId, -1) != current
                    && await RunEndedAsync(session, sessionId, runId, cancellationToken))
                {
                    _runActiveAt.TryRemove(runId, out long _);
                    throw new RunAlreadyEndedException(runId);
                }

                session.Events.Append(sessionId, current + events.Count, events);
            }

            var notice = new CommitNotice(node.Origin, sessionId, current + 1, current + events.Count);
            session.QueueSqlCommand("select pg_notify(?, ?)", node.Channel, notice.ToPayload());
            if (decision.Messages.Count > 0)
            {
                await EnrollAsync(session, scope.ServiceProvider, decision.Messages);
            }

            try
            {
                await session.SaveChangesAsync(cancellationToken);
            }
            catch (Exception e) when (IsConcurrencyConflict(e) && !start && attempt < MaxAttempts)
            {
                logger.LogDebug("Session {SessionId} moved on under another writer; retrying the append", sessionId);
                _knownVersions.TryRemove(sessionId, out long _);
                continue;
            }

            _knownVersions[sessionId] = current + events.Count;
            if (whileRunActive is { } active)
            {
                if (events.Any(e => e is IRunEnded))
                {
                    _runActiveAt.TryRemove(active, out long _);
                }
                else
                {
                    _runActiveAt[active] = current + events.Count;
                }
            }

            var committed = events
                .Select((data, i) => new SessionEvent(current + 1 + i, data.GetType().Name, AtOf(data), data))
                .ToList();
            hub.PublishEvents(sessionId, committed);
            changes.Publish(sessionId, committed);
            return committed;
        }
    }

    /// <summary>The messages commit with the events or not at all (transactional outbox); enrolled afresh on every attempt.</summary>
    private static async Task EnrollAsync(IDocumentSession session, IServiceProvider services, IReadOnlyList<object> messages)
    {
        var outbox = services.GetRequiredService<IMartenOutbox>();
        outbox.Enroll(session);
        foreach (var message in messages)
        {
            if (message is Scheduled later)
            {
                await outbox.SendAsync(later.Message, new DeliveryOptions { ScheduledTime = later.At });
            }
            else
            {
                await outbox.SendAsync(message);
            }
        }
    }

    private async Task<long> CurrentVersionAsync(IDocumentSession session, Guid sessionId, CancellationToken cancellationToken)
    {
        if (_knownVersions.TryGetValue(sessionId, out var known))
        {
            return known;
        }

        var state = await session.Events.FetchStreamStateAsync(sessionId, cancellationToken)
            ?? throw new SessionNotFoundException(sessionId);
        return state.Version;
    }

    private static readonly string RunEndedSql =
        $"select exists (select 1 from {SessionsModule.Schema}.mt_events where stream_id = ? " +
        $"and type in ({string.Join(", ", SessionEventTypes.RunEnded.Select(t => $"'{t}'"))}) and data ->> 'RunId' = ?)";

    /// <summary>
    /// Under the stream lock, and again on every retry after another writer moved the stream on,
    /// so a run's step never lands after its end.
    /// </summary>
    private static async Task<bool> RunEndedAsync(IDocumentSession session, Guid sessionId, Guid runId, CancellationToken cancellationToken)
    {
        var ended = await session.QueryAsync<bool>(RunEndedSql, cancellationToken, sessionId, runId.ToString());
        return ended.Count > 0 && ended[0];
    }

    private static bool IsConcurrencyConflict(Exception e) =>
        e is ConcurrencyException or EventStreamUnexpectedMaxEventIdException
        || e.InnerException is ConcurrencyException or EventStreamUnexpectedMaxEventIdException;

    private static DateTimeOffset AtOf(object data) => data is ITimelineEvent t ? t.At : DateTimeOffset.UtcNow;
}
