using Conclave.Sessions.Contracts;
using Marten;

namespace Conclave.Sessions.Log;

internal sealed class SessionLog(IDocumentStore store, SessionStream stream) : ISessionLog
{
    public async Task<IReadOnlyList<SessionEvent>> ReadAsync(Guid sessionId, long afterVersion, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        var events = await session.Events.FetchStreamAsync(sessionId, fromVersion: afterVersion + 1, token: cancellationToken);
        return events.ToSessionEvents();
    }

    public async Task<long> AppendAsync(Guid sessionId, IReadOnlyList<object> events, CancellationToken cancellationToken)
    {
        var committed = await stream.AppendAsync(sessionId, events, cancellationToken);
        return committed.Count == 0 ? 0 : committed[^1].Version;
    }
}
