using System.Text.Json;
using System.Text.Json.Nodes;
using Conclave.Chat.Connections;
using Conclave.Chat.Conversations;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Chat.Slack;

/// <summary>
/// The Events API alternative to Socket Mode: Slack posts events (and Block Kit clicks) to the Host. Every
/// request is verified with the connection's signing secret inside the time window before anything is read;
/// a bad or stale signature gets 401 and starts nothing. Retries (X-Slack-Retry-Num) carry the same event_id,
/// which the inbox has recorded.
/// </summary>
internal static partial class SlackEventsEndpoint
{
    private const int MaxBodyBytes = 1024 * 1024;

    public static IEndpointRouteBuilder MapSlackEvents(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/api/v1/chat/slack/{connectionId:guid}/events", EventsAsync).AllowAnonymous().DisableAntiforgery();
        endpoints.MapPost("/api/v1/chat/slack/{connectionId:guid}/interactions", InteractionsAsync).AllowAnonymous().DisableAntiforgery();
        return endpoints;
    }

    private static async Task<IResult> EventsAsync(
        Guid connectionId,
        HttpContext context,
        [FromServices] ChatConnections connections,
        [FromServices] ChatClients clients,
        [FromServices] ChatInbox inbox,
        [FromServices] IOptions<ChatOptions> options,
        [FromServices] TimeProvider time,
        [FromServices] ILogger<ChatInbox> logger)
    {
        var (body, refusal) = await VerifiedBodyAsync(connectionId, context, connections, options.Value, time);
        if (refusal is not null)
        {
            return refusal;
        }

        JsonNode? payload;
        try
        {
            payload = JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return Problem(StatusCodes.Status400BadRequest, "The body is not JSON.");
        }

        if (payload?["type"]?.GetValue<string>() == "url_verification")
        {
            return Results.Json(new { challenge = payload["challenge"]?.GetValue<string>() });
        }

        var botUserId = await clients.BotUserIdAsync(connectionId, context.RequestAborted);
        if (payload is not null && SlackEvents.Message(payload, botUserId) is { } incoming)
        {
            var outcome = await inbox.HandleAsync(connectionId, incoming, context.RequestAborted);
            if (context.Request.Headers.TryGetValue("X-Slack-Retry-Num", out var retry))
            {
                Log.Retry(logger, connectionId, retry.ToString(), outcome.ToString());
            }
        }

        return Results.Ok();
    }

    private static async Task<IResult> InteractionsAsync(
        Guid connectionId,
        HttpContext context,
        [FromServices] ChatConnections connections,
        [FromServices] ChatInbox inbox,
        [FromServices] IOptions<ChatOptions> options,
        [FromServices] TimeProvider time)
    {
        var (body, refusal) = await VerifiedBodyAsync(connectionId, context, connections, options.Value, time);
        if (refusal is not null)
        {
            return refusal;
        }

        // application/x-www-form-urlencoded with the JSON in "payload".
        var form = QueryHelpers.ParseQuery(System.Text.Encoding.UTF8.GetString(body));
        JsonNode? payload;
        try
        {
            payload = form.TryGetValue("payload", out var json) ? JsonNode.Parse(json.ToString()) : null;
        }
        catch (JsonException)
        {
            payload = null;
        }

        if (payload is null)
        {
            return Problem(StatusCodes.Status400BadRequest, "The body has no JSON payload field.");
        }

        if (SlackEvents.StopClick(payload) is { } click)
        {
            await inbox.StopAsync(connectionId, click.UserId, click.RunId, context.RequestAborted);
        }

        return Results.Ok();
    }

    private static async Task<(byte[] Body, IResult? Refusal)> VerifiedBodyAsync(
        Guid connectionId, HttpContext context, ChatConnections connections, ChatOptions options, TimeProvider time)
    {
        var secret = await connections.SigningSecretAsync(connectionId, context.RequestAborted);
        if (secret is null)
        {
            return ([], Problem(StatusCodes.Status404NotFound, "No enabled Events API connection has this id."));
        }

        if (context.Request.ContentLength > MaxBodyBytes)
        {
            return ([], Problem(StatusCodes.Status413PayloadTooLarge, "The body is larger than 1 MB."));
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return ([], Problem(StatusCodes.Status413PayloadTooLarge, "The body is larger than 1 MB."));
            }

            buffer.Write(chunk, 0, read);
        }

        var body = buffer.ToArray();
        var valid = SlackSignature.IsValid(
            secret,
            context.Request.Headers["X-Slack-Request-Timestamp"].FirstOrDefault(),
            context.Request.Headers["X-Slack-Signature"].FirstOrDefault(),
            body,
            time.GetUtcNow(),
            options.SignatureWindow);
        return valid
            ? (body, null)
            : ([], Problem(StatusCodes.Status401Unauthorized, "The Slack signature is missing, wrong or outside the 5-minute window."));
    }

    private static IResult Problem(int status, string detail) => Results.Problem(detail: detail, statusCode: status);

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Information, "Slack retried an event of connection {ConnectionId} (attempt {RetryNum}): {Outcome}")]
        public static partial void Retry(ILogger logger, Guid connectionId, string retryNum, string outcome);
    }
}
