using System.Collections.Concurrent;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Sessions;

/// <summary>A session list hears of its owner's sessions changing, and of no one else's.</summary>
[Collection(SharedHost.Name)]
public sealed class SessionChangesTests(ConclaveApp app)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task An_owner_hears_of_their_sessions_created_renamed_and_deleted_and_not_of_anothers()
    {
        var sessions = app.Service<ISessions>();
        var changes = app.Service<ISessionChanges>();
        var owner = $"listener-{Guid.NewGuid():N}";
        var heard = new ConcurrentQueue<Guid>();
        using var subscription = changes.Subscribe(owner, heard.Enqueue);

        var mine = await sessions.CreateAsync(owner, "mine", CancellationToken.None);
        await sessions.CreateAsync($"other-{Guid.NewGuid():N}", "not mine", CancellationToken.None);
        await Eventually.Until(() => heard.Contains(mine.Id), Deadline, "the creation is heard");
        await sessions.RenameAsync(owner, mine.Id, "renamed", CancellationToken.None);
        await sessions.DeleteAsync(owner, mine.Id, CancellationToken.None);
        await Eventually.Until(() => heard.Count(id => id == mine.Id) == 3, Deadline, "the rename and the deletion are heard");

        Assert.All(heard, id => Assert.Equal(mine.Id, id));
    }

    [Fact]
    public async Task A_session_started_before_anyone_listened_is_still_heard_of()
    {
        var sessions = app.Service<ISessions>();
        var owner = $"late-{Guid.NewGuid():N}";
        var old = await sessions.CreateAsync(owner, "old", CancellationToken.None);
        var heard = new ConcurrentQueue<Guid>();

        // Nobody listened when it started, so its owner is read from its summary, as after a restart.
        using var subscription = app.Service<ISessionChanges>().Subscribe(owner, heard.Enqueue);
        await sessions.RenameAsync(owner, old.Id, "renamed", CancellationToken.None);

        await Eventually.Until(() => heard.Contains(old.Id), Deadline, "the rename is heard");
    }

    [Fact]
    public async Task After_unsubscribing_nothing_more_is_heard()
    {
        var sessions = app.Service<ISessions>();
        var owner = $"gone-{Guid.NewGuid():N}";
        var heard = new ConcurrentQueue<Guid>();
        var subscription = app.Service<ISessionChanges>().Subscribe(owner, heard.Enqueue);
        var session = await sessions.CreateAsync(owner, "one", CancellationToken.None);
        await Eventually.Until(() => !heard.IsEmpty, Deadline, "the creation is heard");

        subscription.Dispose();
        await sessions.RenameAsync(owner, session.Id, "two", CancellationToken.None);

        Assert.Single(heard);
    }
}
