using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Conclave.Testing;

/// <summary>
/// Writes one scripted <see cref="Reply"/> to a chat completions request: an error, one JSON
/// completion, or an SSE stream, honouring the reply's pacing, gate, stall and cut.
/// </summary>
internal sealed class ReplyWriter(
    HttpContext context, RecordedRequest request, Reply reply, ChunkGate? gate, CancellationToken cancellationToken)
{
    private const string DefaultModel = "scripted-model";

    private HttpResponse Response => context.Response;

    public async Task<RequestOutcome> WriteAsync()
    {
        if (reply.IsError)
        {
            await WriteErrorAsync();
            return RequestOutcome.Completed;
        }

        if (reply.RedirectLocation is { } location)
        {
            Response.StatusCode = reply.StatusCode;
            Response.Headers.Location = location.ToString();
            return RequestOutcome.Completed;
        }

        var wire = new OpenAiWire(
            $"chatcmpl-scripted-{request.Index}",
            DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            request.Model ?? DefaultModel,
            usageOnEveryChunk: request.Stream && request.IncludeUsage);
        var toolCallIds = reply.ToolCalls
            .Select((call, i) => call.Id ?? $"call_{request.Index}_{i}")
            .ToArray();

        return request.Stream
            ? await StreamAsync(wire, toolCallIds)
            : await CompleteAsync(wire, toolCallIds);
    }

    private async Task WriteErrorAsync()
    {
        Response.StatusCode = reply.StatusCode;
        Response.ContentType = "application/json";
        if (reply.RetryAfterDelay is { } delay)
        {
            // Retry-After only has whole seconds; OpenAI SDKs prefer the precise retry-after-ms.
            Response.Headers.RetryAfter = Math.Ceiling(delay.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            Response.Headers["retry-after-ms"] = ((long)delay.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        }

        await Response.WriteAsync(OpenAiWire.Error(reply.StatusCode, reply.ErrorMessage!), cancellationToken);
    }

    private async Task<RequestOutcome> CompleteAsync(OpenAiWire wire, string[] toolCallIds)
    {
        Response.ContentType = "application/json";
        var body = wire.Completion(reply, toolCallIds, UsageFor(completionChunks: reply.ContentChunks().Count));
        return await SendChunksAsync([body], epilogue: []);
    }

    private async Task<RequestOutcome> StreamAsync(OpenAiWire wire, string[] toolCallIds)
    {
        Response.ContentType = "text/event-stream; charset=utf-8";
        Response.Headers.CacheControl = "no-cache";

        var deltas = DeltaChunks(wire, toolCallIds);
        var usage = UsageFor(deltas.Count);
        List<string> epilogue = [wire.FinishChunk(reply.FinishReason, reply.UsageInFinalChunk ? usage : null)];
        if (request.IncludeUsage && !reply.OmitUsage)
        {
            epilogue.Add(wire.UsageChunk(usage));
        }

        epilogue.Add("[DONE]");

        return await SendChunksAsync(
            deltas.Select(ServerSentEvent).ToArray(),
            epilogue.Select(ServerSentEvent).ToArray());
    }

    private List<string> DeltaChunks(OpenAiWire wire, string[] toolCallIds)
    {
        var deltas = reply.ContentChunks()
            .Select((content, i) => wire.ContentChunk(content, first: i == 0))
            .ToList();
        for (var call = 0; call < reply.ToolCalls.Count; call++)
        {
            var fragments = reply.ArgumentFragments(reply.ToolCalls[call]);
            for (var fragment = 0; fragment < fragments.Count; fragment++)
            {
                deltas.Add(wire.ToolCallChunk(
                    call, toolCallIds[call], reply.ToolCalls[call].Name, fragments[fragment],
                    firstOfCall: fragment == 0, firstOfReply: deltas.Count == 0));
            }
        }

        return deltas;
    }

    /// <summary>
    /// Sends the counted chunks (which the reply may pace, gate, stall after or cut after), then the
    /// epilogue (finish, usage, [DONE]) in one go.
    /// </summary>
    private async Task<RequestOutcome> SendChunksAsync(IReadOnlyList<string> chunks, IReadOnlyList<string> epilogue)
    {
        // Headers go out first so the client's request returns before a gated or stalled first chunk.
        await Response.StartAsync(cancellationToken);
        for (var sent = 0; ; sent++)
        {
            if (IsInterruptionPoint(reply.CutAfterChunks, sent, chunks.Count))
            {
                throw new ConnectionCutException();
            }

            if (IsInterruptionPoint(reply.StallAfterChunks, sent, chunks.Count))
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            if (sent == chunks.Count)
            {
                break;
            }

            await PaceAsync();
            await SendAsync(chunks[sent], countsAsChunk: true);
        }

        foreach (var text in epilogue)
        {
            await SendAsync(text, countsAsChunk: false);
        }

        return RequestOutcome.Completed;
    }

    // "After n chunks" with n beyond the reply's length means after the last chunk, before the finish.
    private static bool IsInterruptionPoint(int? afterChunks, int sent, int total) =>
        afterChunks is { } n && Math.Min(n, total) == sent;

    private async Task PaceAsync()
    {
        if (gate is not null)
        {
            await gate.WaitAsync(cancellationToken);
        }

        if (reply.ChunkDelay > TimeSpan.Zero)
        {
            await Task.Delay(reply.ChunkDelay, cancellationToken);
        }
    }

    private async Task SendAsync(string text, bool countsAsChunk)
    {
        // Taken before the write, so a client's receipt timestamp is never earlier than it.
        var sentAt = Stopwatch.GetTimestamp();
        var bytes = Encoding.UTF8.GetBytes(text);
        await Response.Body.WriteAsync(bytes, cancellationToken);
        await Response.Body.FlushAsync(cancellationToken);
        request.OnBytesSent(bytes.Length);
        if (!countsAsChunk)
        {
            return;
        }

        request.OnChunkSent(sentAt);
        gate?.OnChunkSent(sentAt);
    }

    private TokenUsage UsageFor(int completionChunks) =>
        reply.Usage ?? new TokenUsage(EstimatePromptTokens(), Math.Max(1, completionChunks));

    // Roughly four characters per token, like OpenAI's rule of thumb; tests that care set WithUsage.
    private int EstimatePromptTokens() =>
        Math.Max(1, request.Messages.Sum(message => message.Content?.Length ?? 0) / 4);

    private static string ServerSentEvent(string data) => $"data: {data}\n\n";
}

/// <summary>
/// Thrown through Kestrel to cut a started response. Kestrel then stops the output and closes the
/// connection once the chunks already written have drained, so the client reads exactly those chunks
/// and then an early end. <c>HttpContext.Abort()</c> would be abortive instead: its reset can make the
/// client's kernel discard chunks the client has not read yet, so the count would be racy.
/// </summary>
internal sealed class ConnectionCutException()
    : Exception("The scripted reply's CutAfter ends the connection here.");
