using Conclave.Sessions.Contracts;
using Conclave.Sessions.Lifecycle;
using Conclave.Sessions.Log;

namespace Conclave.Sessions.Live;

/// <summary>A page of a session's events after a version: the REST feed, a plain read.</summary>
internal sealed record ReadEvents(string OwnerId, Guid SessionId, long AfterVersion, int Limit)
{
    public void Validate()
    {
        if (AfterVersion < 0)
        {
            throw new SessionValidationException("after", "'after' must be a version number of 0 or more.");
        }

        if (Limit is < 1 or > SessionLimits.MaxEventPage)
        {
            throw new SessionValidationException("limit", $"'limit' must be between 1 and {SessionLimits.MaxEventPage}.");
        }
    }

    public async Task<EventPage> ExecuteAsync(SessionLog log, OwnedSessions sessions, CancellationToken cancellationToken)
    {
        Validate();
        await sessions.RequireAsync(OwnerId, SessionId, cancellationToken);
        // At most 'limit' events, and fewer when they are long (SessionLog.PageChars): a page is bounded in bytes too.
        var page = await log.ReadPageAsync(SessionId, AfterVersion, Limit, cancellationToken);
        return new EventPage(page.Events, page.Events.Count > 0 ? page.Events[^1].Version : AfterVersion, page.HasMore);
    }
}
