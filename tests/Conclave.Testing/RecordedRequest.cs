using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Conclave.Testing;

/// <summary>How the server's handling of a request ended.</summary>
public enum RequestOutcome
{
    InProgress,
    Completed,

    /// <summary>The client went away (cancelled, disposed its stream) before the response was complete.</summary>
    ClientDisconnected,

    /// <summary>The reply's <see cref="Reply.CutAfter"/> closed the connection mid-response.</summary>
    CutByServer,

    /// <summary>The server was disposed while the response was still running.</summary>
    AbandonedByServer,

    /// <summary>The scripted server threw, e.g. a responder failed; see <see cref="RecordedRequest.Fault"/>.</summary>
    Faulted,
}

/// <summary>One HTTP request the scripted server received, as the provider would have seen it.</summary>
public sealed class RecordedRequest
{
    private readonly Arrivals<long> _chunksSent = new("Chunk");
    private readonly TaskCompletionSource<RequestOutcome> _finished =
        new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile Reply? _reply;
    private volatile Exception? _fault;
    private long _bytesSent;

    internal RecordedRequest(
        int index, long receivedAt, string method, string path, IReadOnlyDictionary<string, string> headers, string rawBody)
    {
        Index = index;
        ReceivedAt = receivedAt;
        Method = method;
        Path = path;
        Headers = headers;
        RawBody = rawBody;
        Body = ParseOrUndefined(rawBody);
        Messages = Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("messages", out var messages)
            ? RecordedMessage.ListFrom(messages)
            : [];
    }

    /// <summary>Zero-based arrival order, the index in <see cref="ScriptedOpenAiServer.Requests"/>.</summary>
    public int Index { get; }

    /// <summary><see cref="Stopwatch.GetTimestamp"/> when the request's headers had arrived.</summary>
    public long ReceivedAt { get; }

    public string Method { get; }

    /// <summary>The request path, e.g. <c>/v1/chat/completions</c>.</summary>
    public string Path { get; }

    /// <summary>Request headers, case-insensitive; repeated headers are joined with ", ".</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    public string? Authorization => Headers.GetValueOrDefault("Authorization");

    public string RawBody { get; }

    /// <summary>The parsed JSON body (immutable, safe to read from any thread); Undefined when not JSON.</summary>
    public JsonElement Body { get; }

    public string? Model => StringProperty(Body, "model");

    public bool Stream => Body.ValueKind == JsonValueKind.Object
        && Body.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True;

    /// <summary>True when the client asked for a usage chunk (<c>stream_options.include_usage</c>).</summary>
    public bool IncludeUsage => Body.ValueKind == JsonValueKind.Object
        && Body.TryGetProperty("stream_options", out var options) && options.ValueKind == JsonValueKind.Object
        && options.TryGetProperty("include_usage", out var include) && include.ValueKind == JsonValueKind.True;

    public IReadOnlyList<RecordedMessage> Messages { get; }

    public RecordedMessage? LastMessage => Messages.Count > 0 ? Messages[^1] : null;

    /// <summary>Names of the functions the client offered in <c>tools</c>.</summary>
    public IReadOnlyList<string> ToolNames =>
        Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("tools", out var tools)
            && tools.ValueKind == JsonValueKind.Array
            ? tools.EnumerateArray()
                .Select(tool => tool.TryGetProperty("function", out var function) ? StringProperty(function, "name") : null)
                .OfType<string>()
                .ToArray()
            : [];

    /// <summary>The reply that served this request; null until chosen (and for non-chat paths).</summary>
    public Reply? Reply
    {
        get => _reply;
        internal set => _reply = value;
    }

    /// <summary>What the server threw while handling this request (outcome <see cref="RequestOutcome.Faulted"/>).</summary>
    public Exception? Fault => _fault;

    /// <summary>Send timestamps (<see cref="Stopwatch.GetTimestamp"/>) of the chunks written so far.</summary>
    public IReadOnlyList<long> ChunkSentAt => _chunksSent.Snapshot();

    /// <summary>Bytes of the response body written so far (chunks and epilogue): how much a client took in before it left.</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    public RequestOutcome Outcome => _finished.Task.IsCompletedSuccessfully ? _finished.Task.Result : RequestOutcome.InProgress;

    public bool ClientDisconnected => Outcome == RequestOutcome.ClientDisconnected;

    /// <summary>Completes when the server finished with this request, however it ended.</summary>
    public Task<RequestOutcome> Finished => _finished.Task;

    /// <summary>A fresh mutable copy of the body, for tests that prefer <see cref="JsonNode"/>.</summary>
    public JsonNode? BodyAsNode() => Body.ValueKind == JsonValueKind.Undefined ? null : JsonNode.Parse(RawBody);

    /// <summary>Waits until the chunk with this zero-based index has been flushed; returns its send timestamp.</summary>
    public Task<long> WaitForChunkSentAsync(int index, TimeSpan timeout) => _chunksSent.WaitAsync(index, timeout);

    /// <summary>Waits until the server finished with this request; fails unless the client disconnected.</summary>
    public async Task WaitForDisconnectAsync(TimeSpan timeout)
    {
        var outcome = await WaitUntilFinishedAsync(timeout);
        if (outcome != RequestOutcome.ClientDisconnected)
        {
            throw new InvalidOperationException($"Request #{Index} ended as {outcome}, not by the client disconnecting.");
        }
    }

    public async Task<RequestOutcome> WaitUntilFinishedAsync(TimeSpan timeout)
    {
        try
        {
            return await _finished.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Request #{Index} was still in progress after {timeout.TotalSeconds:0.###} s.");
        }
    }

    public override string ToString() => $"#{Index} {Method} {Path} ({Outcome})";

    internal void OnChunkSent(long timestamp) => _chunksSent.Add(timestamp);

    internal void OnBytesSent(int count) => Interlocked.Add(ref _bytesSent, count);

    /// <summary>Records the outcome; the first one wins. Returns false when it was already recorded.</summary>
    internal bool Finish(RequestOutcome outcome) => _finished.TrySetResult(outcome);

    internal void Fail(Exception fault)
    {
        _fault = fault;
        Finish(RequestOutcome.Faulted);
    }

    private static JsonElement ParseOrUndefined(string rawBody)
    {
        if (string.IsNullOrWhiteSpace(rawBody))
        {
            return default;
        }

        try
        {
            using var document = JsonDocument.Parse(rawBody);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return default;
        }
    }

    internal static string? StringProperty(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}

/// <summary>One entry of the request's <c>messages</c>; text parts of multi-part content are joined.</summary>
public sealed record RecordedMessage(
    string Role, string? Content, string? ToolCallId, IReadOnlyList<RecordedToolCall> ToolCalls, JsonElement Raw)
{
    internal static IReadOnlyList<RecordedMessage> ListFrom(JsonElement messages) =>
        messages.ValueKind == JsonValueKind.Array ? messages.EnumerateArray().Select(From).ToArray() : [];

    private static RecordedMessage From(JsonElement message) => new(
        RecordedRequest.StringProperty(message, "role") ?? "",
        message.TryGetProperty("content", out var content) ? TextOf(content) : null,
        RecordedRequest.StringProperty(message, "tool_call_id"),
        message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array
            ? calls.EnumerateArray().Select(RecordedToolCall.From).ToArray()
            : [],
        message);

    private static string? TextOf(JsonElement content) => content.ValueKind switch
    {
        JsonValueKind.String => content.GetString(),
        JsonValueKind.Array => string.Concat(content.EnumerateArray()
            .Select(part => RecordedRequest.StringProperty(part, "text"))),
        _ => null,
    };
}

/// <summary>A tool call the client sent back in an assistant message of the history.</summary>
public sealed record RecordedToolCall(string Id, string Name, string ArgumentsJson)
{
    internal static RecordedToolCall From(JsonElement call)
    {
        var function = call.TryGetProperty("function", out var f) ? f : default;
        return new RecordedToolCall(
            RecordedRequest.StringProperty(call, "id") ?? "",
            RecordedRequest.StringProperty(function, "name") ?? "",
            RecordedRequest.StringProperty(function, "arguments") ?? "");
    }
}
