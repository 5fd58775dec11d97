using System.Security.Claims;
using Conclave.Sessions.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Conclave.Sessions.Api;

public sealed record CreateSessionRequest(string? Title);

public sealed record RenameSessionRequest(string? Title);

/// <param name="Limits">Overrides of the team's limits for this run.</param>
public sealed record PostMessageRequest(string? Text, RunOverrides? Limits = null);

public sealed record EditMessageRequest(string? Text);

internal static class SessionEndpoints
{
    /// <summary>Room for a 32 KiB message even fully JSON-escaped; larger bodies get 413 unread.</summary>
    private const long MaxBodyBytes = 256 * 1024;

    public static void MapSessionEndpoints(this RouteGroupBuilder sessions)
    {
        sessions.MapPost("/", CreateAsync).WithName("CreateSession").WithSummary("Start a new session.");
        sessions.MapGet("/", ListAsync).WithName("ListSessions").WithSummary("The caller's sessions, most recent first.");
        sessions.MapGet("/{sessionId:guid}", GetAsync).WithName("GetSession");
        sessions.MapPatch("/{sessionId:guid}", RenameAsync).WithName("RenameSession");
        sessions.MapDelete("/{sessionId:guid}", DeleteAsync).WithName("DeleteSession")
            .WithSummary("Delete a session (it disappears from every view; its log is kept).");
        sessions.MapPost("/{sessionId:guid}/messages", PostMessageAsync).WithName("PostMessage")
            .WithSummary("Post a user message; a run starts in the background and the call returns at once.")
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes));
        sessions.MapPut("/{sessionId:guid}/messages/{messageId:guid}", EditMessageAsync).WithName("EditLastMessage")
            .WithSummary("Edit the session's last message: what followed it is superseded and a new run starts on the edited history.")
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes));
    }

    private static async Task<Created<SessionSummary>> CreateAsync(
        CreateSessionRequest? request, ClaimsPrincipal user, ISessions sessions, CancellationToken ct)
    {
        var created = await sessions.CreateAsync(user.OwnerId(), request?.Title, ct);
        return TypedResults.Created($"/api/v1/sessions/{created.Id}", created);
    }

    private static async Task<Ok<IReadOnlyList<SessionSummary>>> ListAsync(ClaimsPrincipal user, ISessions sessions, CancellationToken ct) =>
        TypedResults.Ok(await sessions.ListAsync(user.OwnerId(), ct));

    private static async Task<Ok<SessionSummary>> GetAsync(Guid sessionId, ClaimsPrincipal user, ISessions sessions, CancellationToken ct) =>
        TypedResults.Ok(await sessions.FindAsync(user.OwnerId(), sessionId, ct) ?? throw new SessionNotFoundException(sessionId));

    private static async Task<Ok<SessionSummary>> RenameAsync(
        Guid sessionId, RenameSessionRequest request, ClaimsPrincipal user, ISessions sessions, CancellationToken ct) =>
        TypedResults.Ok(await sessions.RenameAsync(user.OwnerId(), sessionId, request.Title ?? "", ct));

    private static async Task<NoContent> DeleteAsync(Guid sessionId, ClaimsPrincipal user, ISessions sessions, CancellationToken ct)
    {
        await sessions.DeleteAsync(user.OwnerId(), sessionId, ct);
        return TypedResults.NoContent();
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
