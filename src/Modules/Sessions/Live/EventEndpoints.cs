using System.Security.Claims;
using Conclave.Sessions.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Conclave.Sessions.Live;

internal static class EventEndpoints
{
    public static void MapEventEndpoints(this RouteGroupBuilder sessions)
    {
        sessions.MapGet("/{sessionId:guid}/events", ReadAsync).WithName("ReadSessionEvents")
            .WithSummary("A page of the session's events after version 'after' (default 0).");
        sessions.MapGet("/{sessionId:guid}/stream", StreamAsync).WithName("StreamSessionEvents")
            .WithSummary("Server-sent events: every event after Last-Event-ID (or 'after'), then live events and token deltas.")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");
    }

    private static async Task<Ok<EventPage>> ReadAsync(
        Guid sessionId, ClaimsPrincipal user, ISessions sessions, CancellationToken ct, long after = 0, int limit = 200) =>
        TypedResults.Ok(await sessions.ReadEventsAsync(user.OwnerId(), sessionId, after, limit, ct));

    private static async Task<IResult> StreamAsync(
        Guid sessionId,
        HttpRequest request,
        ClaimsPrincipal user,
        ISessions sessions,
        ISessionFeed feed,
        IOptions<JsonOptions> json,
        CancellationToken ct)
    {
        var after = ResumePoint(request);
        if (await sessions.FindAsync(user.OwnerId(), sessionId, ct) is null)
        {
            throw new SessionNotFoundException(sessionId);
        }

        return new SseFeedResult(feed.SubscribeAsync(sessionId, after, ct), json.Value.SerializerOptions);
    }

    /// <summary>Last-Event-ID (sent by a reconnecting EventSource) wins over the 'after' query.</summary>
    private static long ResumePoint(HttpRequest request)
    {
        var header = request.Headers["Last-Event-ID"].ToString();
        var (name, raw) = header.Length > 0 ? ("Last-Event-ID", header) : ("after", request.Query["after"].ToString());
        if (raw.Length == 0)
        {
            return 0;
        }

        if (!long.TryParse(raw, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version))
        {
            throw new SessionValidationException(name, $"'{name}' must be an event version (a whole number of 0 or more).");
        }

        return version;
    }
}
