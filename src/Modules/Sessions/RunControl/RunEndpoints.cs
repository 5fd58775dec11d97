using System.Security.Claims;
using Conclave.Sessions.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Conclave.Sessions.RunControl;

internal static class RunEndpoints
{
    public static void MapRunEndpoints(this RouteGroupBuilder sessions)
    {
        sessions.MapGet("/{sessionId:guid}/runs", ListAsync).WithName("ListRuns")
            .WithSummary("The session's runs, newest first: status, team, usage and cost so far, and why each ended.");
        sessions.MapPost("/{sessionId:guid}/runs/{runId:guid}/cancel", CancelAsync).WithName("CancelRun")
            .WithSummary("Stop a run at once: its model stream is aborted and RunCancelled appears in the feed.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        sessions.MapPost("/{sessionId:guid}/runs/{runId:guid}/pause", PauseAsync).WithName("PauseRun")
            .WithSummary("Pause a run at its next step boundary (RunPauseRequested now, RunPaused at the boundary).")
            .ProducesProblem(StatusCodes.Status409Conflict);
        sessions.MapPost("/{sessionId:guid}/runs/{runId:guid}/resume", ResumeAsync).WithName("ResumeRun")
            .WithSummary("Resume a paused run from its last persisted step, also after a restart.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        sessions.MapPost("/{sessionId:guid}/runs/{runId:guid}/approvals/{callId}", AnswerApprovalAsync).WithName("AnswerApproval")
            .WithSummary("Approve or deny a tool call that waits for approval (ToolApprovalRequested); the run goes on. 409: already answered, or the run ended.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<Accepted> AnswerApprovalAsync(
        Guid sessionId, Guid runId, string callId, ApprovalAnswer answer, ClaimsPrincipal user, IRunControl runs, CancellationToken ct)
    {
        await runs.AnswerApprovalAsync(user.OwnerId(), sessionId, runId, callId, answer, ct);
        return TypedResults.Accepted($"/api/v1/sessions/{sessionId}/events");
    }

    private static async Task<Ok<IReadOnlyList<RunSummary>>> ListAsync(Guid sessionId, ClaimsPrincipal user, ISessions sessions, CancellationToken ct) =>
        TypedResults.Ok(await sessions.RunsAsync(user.OwnerId(), sessionId, ct));

    private static async Task<Accepted> PauseAsync(
        Guid sessionId, Guid runId, ClaimsPrincipal user, IRunControl runs, CancellationToken ct)
    {
        await runs.PauseAsync(user.OwnerId(), sessionId, runId, ct);
        return TypedResults.Accepted($"/api/v1/sessions/{sessionId}/events");
    }

    private static async Task<Accepted> ResumeAsync(
        Guid sessionId, Guid runId, ClaimsPrincipal user, IRunControl runs, CancellationToken ct)
    {
        await runs.ResumeAsync(user.OwnerId(), sessionId, runId, ct);
        return TypedResults.Accepted($"/api/v1/sessions/{sessionId}/events");
    }

    private static async Task<Accepted> CancelAsync(
        Guid sessionId, Guid runId, ClaimsPrincipal user, IRunControl runs, CancellationToken ct)
    {
        await runs.CancelAsync(user.OwnerId(), sessionId, runId, ct);
        return TypedResults.Accepted($"/api/v1/sessions/{sessionId}/events");
    }
}
