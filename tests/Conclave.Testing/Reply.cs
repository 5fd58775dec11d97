using System.Globalization;
using System.Text.RegularExpressions;

namespace Conclave.Testing;

/// <summary>
/// One scripted answer of <see cref="ScriptedOpenAiServer"/>. Immutable: every builder method returns
/// a modified copy, so one reply can serve as a default or be enqueued many times.
/// </summary>
/// <example><c>Reply.Text("Hello **world**").InChunks(5).WithUsage(12, 7)</c></example>
public sealed partial record Reply
{
    private const int DefaultArgumentFragments = 3;

    private Reply()
    {
    }

    /// <summary>Assistant text; null when the reply only calls tools or is an error.</summary>
    public string? Content { get; private init; }

    public IReadOnlyList<ScriptedToolCall> ToolCalls { get; private init; } = [];

    /// <summary>Exact content chunks given by <see cref="Chunks"/>; overrides <see cref="ChunkCount"/>.</summary>
    public IReadOnlyList<string>? ExplicitChunks { get; private init; }

    /// <summary>
    /// How many chunks the content (and each tool call's arguments) is split into. Null means one chunk
    /// per word for content and three fragments for arguments.
    /// </summary>
    public int? ChunkCount { get; private init; }

    /// <summary>Reported token usage; null means an estimate from the request and the chunk count.</summary>
    public TokenUsage? Usage { get; private init; }

    /// <summary>
    /// Puts usage on the final (finish_reason) chunk even when the client did not ask for it with
    /// <c>stream_options.include_usage</c>, as some OpenAI-compatible providers do.
    /// </summary>
    public bool UsageInFinalChunk { get; private init; }

    /// <summary>Overrides the finish_reason ("stop", or "tool_calls" when the reply calls tools).</summary>
    public string? FinishReasonOverride { get; private init; }

    public int StatusCode { get; private init; } = 200;

    public string? ErrorMessage { get; private init; }

    /// <summary>Sent as <c>Retry-After</c> (whole seconds) and <c>retry-after-ms</c>.</summary>
    public TimeSpan? RetryAfterDelay { get; private init; }

    /// <summary>Number of chunks sent before the response hangs until the client leaves or the server stops.</summary>
    public int? StallAfterChunks { get; private init; }

    /// <summary>Number of chunks sent before the server closes the connection mid-response.</summary>
    public int? CutAfterChunks { get; private init; }

    /// <summary>Pause before each counted chunk (after its gate release, if gated).</summary>
    public TimeSpan ChunkDelay { get; private init; }

    /// <summary>When set, every chunk waits for a release of <see cref="Gate"/> (or the server's gate).</summary>
    public bool IsGated { get; private init; }

    /// <summary>The gate of a gated reply; null means <see cref="ScriptedOpenAiServer.Gate"/>.</summary>
    public ChunkGate? Gate { get; private init; }

    public bool IsError => StatusCode >= 400;

    /// <summary>Where a <see cref="Redirect"/> reply sends the client (the <c>Location</c> header).</summary>
    public Uri? RedirectLocation { get; private init; }

    public string FinishReason => FinishReasonOverride ?? (ToolCalls.Count > 0 ? "tool_calls" : "stop");

    /// <summary>Assistant text, streamed one word per chunk unless <see cref="InChunks"/> says otherwise.</summary>
    public static Reply Text(string content) => new() { Content = content };

    /// <summary>Assistant text streamed in exactly these chunks.</summary>
    public static Reply Chunks(params string[] chunks) =>
        new() { Content = string.Concat(chunks), ExplicitChunks = chunks };

    /// <summary>
    /// A call of one tool; its arguments JSON is streamed in fragments. Chain <see cref="AndToolCall"/>
    /// for parallel calls in the same assistant turn.
    /// </summary>
    public static Reply ToolCall(string name, string argumentsJson, string? id = null) =>
        new() { ToolCalls = [new ScriptedToolCall(name, argumentsJson, id)] };

    /// <summary>An OpenAI-style error response (<c>{"error":{...}}</c>) with this HTTP status.</summary>
    public static Reply Error(int statusCode, string? message = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        return new Reply { StatusCode = statusCode, ErrorMessage = message ?? DefaultErrorMessage(statusCode) };
    }

    /// <summary>A redirect (default 307, which keeps the method and body) to <paramref name="location"/>, with an empty body.</summary>
    public static Reply Redirect(Uri location, int statusCode = 307)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 300);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 399);
        return new Reply { StatusCode = statusCode, RedirectLocation = location };
    }

    /// <summary>Adds a tool call after the content or the tool calls already in this reply.</summary>
    public Reply AndToolCall(string name, string argumentsJson, string? id = null) =>
        this with { ToolCalls = [.. ToolCalls, new ScriptedToolCall(name, argumentsJson, id)] };

    public Reply InChunks(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return this with { ChunkCount = count, ExplicitChunks = null };
    }

    public Reply WithUsage(int promptTokens, int completionTokens) =>
        this with { Usage = new TokenUsage(promptTokens, completionTokens) };

    public Reply AlwaysSendUsage() => this with { UsageInFinalChunk = true };

    /// <summary>Sends no usage at all, even when the client asks for it (as some OpenAI-compatible servers do).</summary>
    public Reply WithoutUsage() => this with { OmitUsage = true };

    public bool OmitUsage { get; private init; }

    public Reply WithFinishReason(string finishReason) => this with { FinishReasonOverride = finishReason };

    public Reply RetryAfter(TimeSpan delay) => this with { RetryAfterDelay = delay };

    public Reply StallAfter(int chunks)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(chunks);
        return this with { StallAfterChunks = chunks };
    }

    public Reply CutAfter(int chunks)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(chunks);
        return this with { CutAfterChunks = chunks };
    }

    public Reply WithChunkDelay(TimeSpan delay) => this with { ChunkDelay = delay };

    /// <summary>
    /// Each chunk waits for one release of <paramref name="gate"/>, or of the server's
    /// <see cref="ScriptedOpenAiServer.Gate"/> (<see cref="ScriptedOpenAiServer.ReleaseChunk"/>) when null.
    /// </summary>
    public Reply Gated(ChunkGate? gate = null) => this with { IsGated = true, Gate = gate };

    internal IReadOnlyList<string> ContentChunks()
    {
        if (Content is null)
        {
            return [];
        }

        return ExplicitChunks ?? (ChunkCount is { } count ? SplitEvenly(Content, count) : SplitIntoWords(Content));
    }

    internal IReadOnlyList<string> ArgumentFragments(ScriptedToolCall call) =>
        SplitEvenly(call.ArgumentsJson, ChunkCount ?? DefaultArgumentFragments);

    private static List<string> SplitIntoWords(string text)
    {
        var words = WordWithSpacing().Matches(text).Select(match => match.Value).ToList();
        return words.Count > 0 ? words : [text];
    }

    // Splits on text elements so a chunk never ends inside a surrogate pair or combining sequence.
    private static List<string> SplitEvenly(string text, int count)
    {
        var starts = StringInfo.ParseCombiningCharacters(text);
        var parts = Math.Max(1, Math.Min(count, starts.Length));
        var chunks = new List<string>(parts);
        for (var part = 0; part < parts; part++)
        {
            var first = starts.Length * part / parts;
            var next = starts.Length * (part + 1) / parts;
            var from = starts.Length == 0 ? 0 : starts[first];
            var to = next < starts.Length ? starts[next] : text.Length;
            chunks.Add(text[from..to]);
        }

        return chunks;
    }

    private static string DefaultErrorMessage(int statusCode) => statusCode switch
    {
        401 => "Incorrect API key provided.",
        403 => "You are not allowed to use this model.",
        404 => "The model does not exist.",
        429 => "Rate limit reached for requests.",
        >= 500 => "The server had an error while processing your request.",
        _ => "The request was rejected.",
    };

    [GeneratedRegex(@"\s*\S+\s*")]
    private static partial Regex WordWithSpacing();
}

/// <summary>A tool call the scripted model makes. A null id becomes <c>call_{request}_{index}</c>.</summary>
public sealed record ScriptedToolCall(string Name, string ArgumentsJson, string? Id = null);

public sealed record TokenUsage(int PromptTokens, int CompletionTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}
