using Conclave.Sessions.Contracts;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Sessions;

/// <summary>Every session use case filters by owner: another owner's session does not exist for you.</summary>
[Collection(SharedHost.Name)]
public sealed class OwnershipTests(ConclaveApp app)
{
    [Fact]
    public async Task Another_owners_session_is_invisible_and_untouchable()
    {
        var sessions = app.Service<ISessions>();
        var alices = await sessions.CreateAsync("alice", "Alice's secrets", CancellationToken.None);
        var ct = CancellationToken.None;

        Assert.Null(await sessions.FindAsync("bob", alices.Id, ct));
        Assert.DoesNotContain(await sessions.ListAsync("bob", ct), s => s.Id == alices.Id);
        await Assert.ThrowsAsync<SessionNotFoundException>(() => sessions.RenameAsync("bob", alices.Id, "mine", ct));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => sessions.DeleteAsync("bob", alices.Id, ct));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => sessions.PostMessageAsync("bob", alices.Id, "hi", ct));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => sessions.ReadEventsAsync("bob", alices.Id, 0, 10, ct));

        var untouched = await sessions.FindAsync("alice", alices.Id, ct);
        Assert.Equal("Alice's secrets", untouched!.Title);
        Assert.Single(await app.EventsAsync(alices.Id));
    }

    [Fact]
    public async Task The_list_holds_only_the_owners_sessions_newest_first()
    {
        var sessions = app.Service<ISessions>();
        var first = await sessions.CreateAsync("carol", "first", CancellationToken.None);
        var second = await sessions.CreateAsync("carol", "second", CancellationToken.None);
        await sessions.CreateAsync("dave", "not carol's", CancellationToken.None);

        var list = await sessions.ListAsync("carol", CancellationToken.None);

        Assert.Equal([second.Id, first.Id], list.Select(s => s.Id));
    }
}
