using Conclave.Sessions.Contracts;

namespace Conclave.Host.Components.Sidebar;

/// <summary>
/// The signed-in user's sessions for one circuit, newest first, kept current by <see cref="ISessionChanges"/>.
/// A deletion waits <see cref="UndoWindow"/> before it happens so it can be undone; leaving (the circuit
/// ending) carries out the deletions still waiting.
/// </summary>
internal sealed class SessionList(ISessions sessions, ISessionChanges changes, TimeProvider clock, ILogger<SessionList> logger)
    : IAsyncDisposable
{
    public static readonly TimeSpan UndoWindow = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _disposed = new();
    private readonly Dictionary<Guid, PendingDeletion> _pending = [];
    private readonly Lock _lock = new();
    private IReadOnlyList<SessionSummary> _loaded = [];
    private IDisposable? _subscription;
    private string? _ownerId;
    private Task? _loading;
    private int _reloadScheduled;

    /// <summary>Raised (on any thread) after the list or the deletions waiting changed.</summary>
    public event Action? Changed;

    public bool Loaded { get; private set; }

    /// <summary>The sessions shown: the loaded ones less those waiting to be deleted.</summary>
    public IReadOnlyList<SessionSummary> Items
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count == 0 ? _loaded : _loaded.Where(s => !_pending.ContainsKey(s.Id)).ToList();
            }
        }
    }

    /// <summary>The deletion waiting the longest to be undone, if any.</summary>
    public SessionSummary? LastDeleted
    {
        get
        {
            lock (_lock)
            {
                return _pending.Values.MaxBy(p => p.At)?.Session;
            }
        }
    }

    /// <summary>Loads the owner's list once per circuit and follows its changes from then on.</summary>
    public Task EnsureLoadedAsync(string ownerId)
    {
        lock (_lock)
        {
            if (_loading is null)
            {
                _ownerId = ownerId;
                _subscription = changes.Subscribe(ownerId, _ => ScheduleReload());
                _loading = ReloadAsync();
            }

            return _loading;
        }
    }

    public async Task<SessionSummary> CreateAsync(string? title, CancellationToken cancellationToken)
    {
        var created = await sessions.CreateAsync(Owner, title, cancellationToken);
        await ReloadAsync();
        return created;
    }

    public async Task RenameAsync(Guid sessionId, string title, CancellationToken cancellationToken)
    {
        await sessions.RenameAsync(Owner, sessionId, title, cancellationToken);
        await ReloadAsync();
    }

    /// <summary>Hides the session now and deletes it when the undo window has passed.</summary>
    public void Delete(SessionSummary session)
    {
        var pending = new PendingDeletion(session, clock.GetUtcNow(), CancellationTokenSource.CreateLinkedTokenSource(_disposed.Token));
        lock (_lock)
        {
            if (!_pending.TryAdd(session.Id, pending))
            {
                return;
            }
        }

        _ = DeleteLaterAsync(pending);
        Changed?.Invoke();
    }

    /// <summary>Keeps a session whose deletion is still waiting; false when it is too late.</summary>
    public bool Undo(Guid sessionId)
    {
        PendingDeletion? pending;
        lock (_lock)
        {
            if (!_pending.Remove(sessionId, out pending))
            {
                return false;
            }
        }

        try
        {
            pending.Undo.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Its wait had just ended; having left the list first, the session stays.
        }

        Changed?.Invoke();
        return true;
    }

    private string Owner => _ownerId ?? throw new InvalidOperationException("The list is not loaded yet.");

    private async Task DeleteLaterAsync(PendingDeletion pending)
    {
        try
        {
            await Task.Delay(UndoWindow, clock, pending.Undo.Token);
        }
        catch (OperationCanceledException)
        {
            // Undone; or the circuit is ending, and DisposeAsync carries the deletion out.
            return;
        }
        finally
        {
            pending.Undo.Dispose();
        }

        lock (_lock)
        {
            if (!_pending.Remove(pending.Session.Id))
            {
                return;
            }
        }

        await CommitAsync(pending.Session.Id, _disposed.Token);
        await ReloadAsync();
    }

    private async Task CommitAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        try
        {
            await sessions.DeleteAsync(Owner, sessionId, cancellationToken);
        }
        catch (SessionNotFoundException)
        {
            // Deleted elsewhere meanwhile.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Deleting session {SessionId} after its undo window failed", sessionId);
        }
    }

    /// <summary>Coalesces a burst of changes (a run appends many events) into one read.</summary>
    private void ScheduleReload()
    {
        if (Interlocked.Exchange(ref _reloadScheduled, 1) == 1)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(150), clock, _disposed.Token);
                Interlocked.Exchange(ref _reloadScheduled, 0);
                await ReloadAsync();
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    private async Task ReloadAsync()
    {
        try
        {
            var list = await sessions.ListAsync(Owner, _disposed.Token);
            lock (_lock)
            {
                _loaded = list;
                Loaded = true;
            }

            Changed?.Invoke();
        }
        catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Reading the session list of {OwnerId} failed; it shows what it had", _ownerId);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _subscription?.Dispose();
        await _disposed.CancelAsync();
        List<PendingDeletion> waiting;
        lock (_lock)
        {
            waiting = [.. _pending.Values];
            _pending.Clear();
        }

        // The user asked for these and did not undo them before leaving.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        foreach (var pending in waiting)
        {
            await CommitAsync(pending.Session.Id, deadline.Token);
        }

        _disposed.Dispose();
    }

    private sealed record PendingDeletion(SessionSummary Session, DateTimeOffset At, CancellationTokenSource Undo);
}
