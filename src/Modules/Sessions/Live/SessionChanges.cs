using System.Collections.Concurrent;
using System.Collections.Immutable;
using Conclave.Sessions.Contracts;
using Marten;
using Microsoft.Extensions.Logging;

namespace Conclave.Sessions.Live;

/// <summary>
/// Per-owner subscriptions to <see cref="ISessionChanges"/>. Events carry no owner after the first, so
/// owners are learnt from <see cref="SessionStarted"/> or, for a session started before anyone of its
/// owner listened (or before this process), read once from its summary, off the writer's path.
/// </summary>
internal sealed class SessionChanges(IDocumentStore store, ILogger<SessionChanges> logger) : ISessionChanges
{
    /// <summary>Past this many known owners the map starts over (it is only a cache of the summaries).</summary>
    private const int MaxKnownOwners = 100_000;

    private readonly ConcurrentDictionary<string, ImmutableList<Action<Guid>>> _listeners = new();
    private readonly ConcurrentDictionary<Guid, string> _owners = new();

    public IDisposable Subscribe(string ownerId, Action<Guid> changed)
    {
        _listeners.AddOrUpdate(ownerId, _ => [changed], (_, list) => list.Add(changed));
        return new Unsubscriber(() =>
        {
            _listeners.AddOrUpdate(ownerId, _ => [], (_, list) => list.Remove(changed));
            _listeners.TryRemove(new KeyValuePair<string, ImmutableList<Action<Guid>>>(ownerId, []));
        });
    }

    /// <summary>Whether any session list on this node listens (else another node's commits need not be read for it).</summary>
    internal bool HasListeners => !_listeners.IsEmpty;

    /// <summary>Called with every committed batch of a session's events, this node's or (relayed) another's.</summary>
    public void Publish(Guid sessionId, IReadOnlyList<SessionEvent> events)
    {
        // Only owners someone listens for are kept; another is read when it first matters.
        if (events.Select(e => e.Data).OfType<SessionStarted>().FirstOrDefault() is { } started && _listeners.ContainsKey(started.OwnerId))
        {
            Remember(sessionId, started.OwnerId);
        }

        if (_listeners.IsEmpty || !events.Any(e => Listed(e.Data)))
        {
            return;
        }

        if (_owners.TryGetValue(sessionId, out var owner))
        {
            Notify(owner, sessionId);
        }
        else
        {
            _ = ResolveThenNotifyAsync(sessionId);
        }
    }

    /// <summary>What a session list shows: its title, that it exists, its message count, its last run's state.</summary>
    private static bool Listed(object data) => data is SessionStarted or SessionRenamed or SessionDeleted
        or UserMessagePosted or AgentMessageCompleted or RunQueued or RunStarted or RunPaused or RunResumed or IRunEnded
        or ToolApprovalRequested or ToolApprovalGranted or ToolApprovalDenied;

    private async Task ResolveThenNotifyAsync(Guid sessionId)
    {
        try
        {
            await using var session = store.QuerySession();
            if (await session.LoadAsync<SessionSummary>(sessionId) is { } summary)
            {
                Remember(sessionId, summary.OwnerId);
                Notify(summary.OwnerId, sessionId);
            }
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not tell the lists of session {SessionId}'s owner that it changed", sessionId);
        }
    }

    private void Remember(Guid sessionId, string ownerId)
    {
        if (_owners.Count >= MaxKnownOwners)
        {
            _owners.Clear();
        }

        _owners[sessionId] = ownerId;
    }

    private void Notify(string ownerId, Guid sessionId)
    {
        if (!_listeners.TryGetValue(ownerId, out var listeners))
        {
            return;
        }

        foreach (var listener in listeners)
        {
            try
            {
                listener(sessionId);
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "A session list failed on the change of session {SessionId}", sessionId);
            }
        }
    }

    private sealed class Unsubscriber(Action dispose) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                dispose();
            }
        }
    }
}
