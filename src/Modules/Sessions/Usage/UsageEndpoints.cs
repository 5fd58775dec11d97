using System.Security.Claims;
using Conclave.Sessions.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Conclave.Sessions.Usage;

internal static class UsageEndpoints
{
    public static void MapUsageEndpoints(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/api/v1/usage", UsageAsync).WithTags("Sessions").RequireAuthorization().WithName("GetUsage")
            .WithSummary("The caller's token usage and cost since a time (default: the last 30 days); unpricedCalls > 0 means the cost is a lower bound.");

    private static async Task<Ok<UsageTotals>> UsageAsync(ClaimsPrincipal user, ISessions sessions, TimeProvider clock, DateTimeOffset? since, CancellationToken ct)
    {
        var from = since ?? clock.GetUtcNow().AddDays(-30);
        return TypedResults.Ok(await sessions.UsageAsync(user.OwnerId(), from, ct));
    }
}
