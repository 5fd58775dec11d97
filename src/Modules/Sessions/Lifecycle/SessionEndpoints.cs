using System.Security.Claims;
using Conclave.Sessions.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Conclave.Sessions.Lifecycle;

public sealed record CreateSessionRequest(string? Title);

public sealed record RenameSessionRequest(string? Title);

internal static class SessionEndpoints
{
    public static void MapSessionEndpoints(this RouteGroupBuilder sessions)
    {
        sessions.MapPost("/", CreateAsync).WithName("CreateSession").WithSummary("Start a new session.");
        sessions.MapGet("/", ListAsync).WithName("ListSessions").WithSummary("The caller's sessions, most recent first.");
        sessions.MapGet("/{sessionId:guid}", GetAsync).WithName("GetSession");
        sessions.MapPatch("/{sessionId:guid}", RenameAsync).WithName("RenameSession");
        sessions.MapDelete("/{sessionId:guid}", DeleteAsync).WithName("DeleteSession")
            .WithSummary("Delete a session (it disappears from every view; its log is kept).");
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
}
