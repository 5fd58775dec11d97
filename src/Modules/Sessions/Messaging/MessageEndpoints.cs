using System.Security.Claims;
using Conclave.Sessions.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Conclave.Sessions.Messaging;

/// <param name="Limits">Overrides of the team's limits for this run.</param>
public sealed record PostMessageRequest(string? Text, RunOverrides? Limits = null);

public sealed record EditMessageRequest(string? Text);

internal static class MessageEndpoints
{
    /// <summary>Room for a 32 KiB message even fully JSON-escaped; larger bodies get 413 unread.</summary>
    private const long MaxBodyBytes = 256 * 1024;

    public static void MapMessageEndpoints(this RouteGroupBuilder sessions)
    {
        sessions.MapPost("/{sessionId:guid}/messages", PostMessageAsync).WithName("PostMessage")
            .WithSummary("Post a user message; a run starts in the background and the call returns at once.")
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes));
        sessions.MapPut("/{sessionId:guid}/messages/{messageId:guid}", EditMessageAsync).WithName("EditLastMessage")
            .WithSummary("Edit the session's last message: what followed it is superseded and a new run starts on the edited history.")
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes));
    }

    private static async Task<Accepted<PostedMessage>> PostMessageAsync(
        Guid sessionId, PostMessageRequest request, ClaimsPrincipal user, ISessions sessions, CancellationToken ct)
    {
        var posted = await sessions.PostMessageAsync(user.OwnerId(), sessionId, request.Text ?? "", request.Limits, ct);
        return TypedResults.Accepted($"/api/v1/sessions/{sessionId}/events?after={posted.Version - 2}", posted);
    }

    private static async Task<Accepted<PostedMessage>> EditMessageAsync(
        Guid sessionId, Guid messageId, EditMessageRequest request, ClaimsPrincipal user, ISessions sessions, CancellationToken ct)
    {
        var posted = await sessions.EditLastMessageAsync(user.OwnerId(), sessionId, messageId, request.Text ?? "", ct);
        return TypedResults.Accepted($"/api/v1/sessions/{sessionId}/events?after={posted.Version - 2}", posted);
    }
}
