using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Conclave.Host.Composition;

/// <summary>
/// /health/ready as JSON that says why: each check's status and its one-sentence description (a refused
/// sandbox names the limit and the fix). No exception details or data: the endpoint is anonymous.
/// </summary>
internal static class HealthReportWriter
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(context.Response.Body, new
        {
            status = report.Status.ToString(),
            checks = report.Entries.Select(e => new { name = e.Key, status = e.Value.Status.ToString(), description = e.Value.Description }),
        }, cancellationToken: context.RequestAborted);
    }
}
