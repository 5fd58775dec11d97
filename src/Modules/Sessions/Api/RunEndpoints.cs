using System.Security.Claims;
using Conclave.Sessions.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Conclave.Sessions.Api;

internal static class RunEndpoints
{
    public static void MapRunEndpoints(this RouteGroupBuilder sessions)
    {
        sessions.MapPost("/{sessionId:guid}/runs/{runId:guid}/cancel", CancelAsync).WithName("CancelRun")
            .WithSummary("Stop a run at once: its model stream is aborted and RunCancelled appears in the feed.")
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<Accepted> CancelAsync(
        Guid sessionId, Guid runId, ClaimsPrincipal user, IRunControl runs, CancellationToken ct)
    {
        await runs.CancelAsync(user.OwnerId(), sessionId, runId, ct);
        return TypedResults.Accepted($"/api/v1/sessions/{sessionId}/events");
    }
}
