using System.Collections.Concurrent;
using Conclave.Host.Components.Sidebar;
using Conclave.Sessions.Contracts;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Conclave.Host.Tests.Sidebar;

/// <summary>The sidebar's list: a deletion waits its undo window, then happens; leaving carries it out.</summary>
public sealed class SessionListTests
{
    private readonly FakeTimeProvider _clock = new();
    private readonly FakeSessions _sessions = new();

    [Fact]
    public async Task A_deletion_hides_the_session_at_once_and_happens_when_its_window_has_passed()
    {
        var list = await LoadedListAsync("a", "b");
        var a = list.Items.Single(s => s.Title == "a");

        list.Delete(a);

        Assert.DoesNotContain(list.Items, s => s.Id == a.Id);
        Assert.Equal(a, list.LastDeleted);
        var deletion = _sessions.NextDeletion;
        _clock.Advance(SessionList.UndoWindow - TimeSpan.FromSeconds(1));
        Assert.Empty(_sessions.Deleted);
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(a.Id, await deletion.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task An_undone_deletion_never_happens()
    {
        var list = await LoadedListAsync("a");
        var a = list.Items.Single();
        list.Delete(a);

        Assert.True(list.Undo(a.Id));
        _clock.Advance(SessionList.UndoWindow * 2);

        Assert.Contains(list.Items, s => s.Id == a.Id);
        Assert.Null(list.LastDeleted);
        await list.DisposeAsync();
        Assert.Empty(_sessions.Deleted);
        Assert.False(list.Undo(a.Id));
    }

    [Fact]
    public async Task Leaving_before_the_window_ends_carries_the_deletion_out()
    {
        var list = await LoadedListAsync("a");
        var a = list.Items.Single();
        list.Delete(a);

        await list.DisposeAsync();

        Assert.Equal([a.Id], _sessions.Deleted);
    }

    private async Task<SessionList> LoadedListAsync(params string[] titles)
    {
        foreach (var title in titles)
        {
            await _sessions.CreateAsync("owner", title, CancellationToken.None);
        }

        var list = new SessionList(_sessions, new NoChanges(), _clock, NullLogger<SessionList>.Instance);
        await list.EnsureLoadedAsync("owner");
        return list;
    }

    private sealed class NoChanges : ISessionChanges
    {
        public IDisposable Subscribe(string ownerId, Action<Guid> changed) => new CancellationTokenSource();
    }

    /// <summary>Sessions in memory: only what the list uses.</summary>
    private sealed class FakeSessions : ISessions
    {
        private readonly ConcurrentDictionary<Guid, SessionSummary> _sessions = new();
        private TaskCompletionSource<Guid> _nextDeletion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ConcurrentQueue<Guid> Deleted { get; } = new();

        public Task<Guid> NextDeletion => _nextDeletion.Task;

        public Task<SessionSummary> CreateAsync(string ownerId, string? title, CancellationToken cancellationToken)
        {
            var summary = new SessionSummary { Id = Guid.CreateVersion7(), OwnerId = ownerId, Title = title ?? "New session" };
            _sessions[summary.Id] = summary;
            return Task.FromResult(summary);
        }

        public Task<IReadOnlyList<SessionSummary>> ListAsync(string ownerId, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<SessionSummary>>(_sessions.Values.Where(s => s.OwnerId == ownerId && !s.Deleted).ToList());

        public Task DeleteAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken)
        {
            _sessions[sessionId] = _sessions[sessionId] with { Deleted = true };
            Deleted.Enqueue(sessionId);
            _nextDeletion.TrySetResult(sessionId);
            _nextDeletion = new(TaskCreationOptions.RunContinuationsAsynchronously);
            return Task.CompletedTask;
        }

        public Task<SessionSummary?> FindAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<SessionSummary> RenameAsync(string ownerId, Guid sessionId, string title, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<SessionSummary> ChooseTeamAsync(string ownerId, Guid sessionId, Guid teamId, string teamName, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<PostedMessage> PostMessageAsync(string ownerId, Guid sessionId, string text, RunOverrides? limits, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<PostedMessage> EditLastMessageAsync(string ownerId, Guid sessionId, Guid messageId, string text, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<RunSummary>> RunsAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<UsageTotals> UsageAsync(string ownerId, DateTimeOffset since, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<EventPage> ReadEventsAsync(string ownerId, Guid sessionId, long afterVersion, int limit, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
