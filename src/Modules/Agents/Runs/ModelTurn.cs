using System.Diagnostics;
using System.Globalization;
using System.Text;
using Conclave.Agents.Tools;
using Conclave.Sessions.Contracts;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;
using OpenAI.Chat;

namespace Conclave.Agents.Runs;

/// <summary>What the model said in one turn: text, tool calls (not yet executed) and usage.</summary>
/// <param name="Cut">The answer reached <see cref="ReplyLimits.MaxAnswerChars"/>: <see cref="Text"/> ends with a note saying so.</param>
/// <param name="FirstToken">From the request to the first streamed chunk (null: nothing came).</param>
internal sealed record ModelReply(string Text, IReadOnlyList<ModelToolCall> Calls, TokenUsage Usage, bool Cut = false, TimeSpan? FirstToken = null);

/// <param name="Arguments">Exactly as the model sent them, checked later, not here; a preview when <paramref name="ArgumentsCut"/>.</param>
/// <param name="ArgumentsCut">The arguments were longer than <see cref="ReplyLimits.MaxToolArgumentChars"/>: the call is answered with a correction, never run.</param>
internal sealed record ModelToolCall(string CallId, string Name, string Arguments, bool ArgumentsCut = false);

/// <summary>What one turn may take in from a provider.</summary>
internal sealed record ReplyLimits(int MaxAnswerChars, int MaxToolArgumentChars, int MaxCalls)
{
    /// <summary>Tool calls one message may ask for; a model asking for more is cut off there.</summary>
    public const int MaxCallsPerMessage = 32;

    /// <summary>What is kept of arguments over the cap: enough to recognise the call in the timeline.</summary>
    public const int ArgumentsPreviewChars = 1_000;

    /// <summary>Tool names and call ids are short; anything longer is not one.</summary>
    public const int MaxNameChars = 200;
}

/// <summary>The provider's stream broke after the answer had started (as opposed to never reaching the provider).</summary>
internal sealed class AnswerInterruptedException(Exception inner) : Exception("The model's answer was interrupted.", inner);

/// <summary>
/// Streams one completion through Semantic Kernel's OpenAI connector: text deltas go out as they
/// come, tool calls are collected (offered to the model, never invoked automatically: the
/// orchestrator checks and executes them as persisted steps). Everything taken in is capped
/// (<see cref="ReplyLimits"/>); at a cap the stream to the provider is aborted, so a provider
/// streaming without end costs the Host a bounded amount of memory.
/// </summary>
internal static class ModelTurn
{
    public static async Task<ModelReply> StreamAsync(
        IChatCompletionService model, ChatHistory chat, AgentToolbox tools, ReplyLimits limits, Action<string> onText, CancellationToken cancellationToken)
    {
        var settings = new OpenAIPromptExecutionSettings
        {
            FunctionChoiceBehavior = tools.Functions.Count > 0 ? FunctionChoiceBehavior.Auto(tools.Functions, autoInvoke: false) : null,
        };
        var text = new StringBuilder();
        var calls = new SortedDictionary<int, PendingCall>();
        TokenUsage? usage = null;
        var answerCut = false;
        var started = false;
        var requested = Stopwatch.GetTimestamp();
        TimeSpan? firstToken = null;
        try
        {
            // Leaving the loop early disposes the stream, which aborts the provider's response.
            await foreach (var chunk in model.GetStreamingChatMessageContentsAsync(chat, settings, new Kernel(), cancellationToken))
            {
                started = true;
                firstToken ??= Stopwatch.GetElapsedTime(requested);
                if (!string.IsNullOrEmpty(chunk.Content))
                {
                    var room = limits.MaxAnswerChars - text.Length;
                    var take = Math.Min(room, chunk.Content.Length);
                    if (take < chunk.Content.Length && take > 0 && char.IsHighSurrogate(chunk.Content[take - 1]))
                    {
                        take--; // never half a character
                    }

                    if (take > 0)
                    {
                        var piece = take == chunk.Content.Length ? chunk.Content : chunk.Content[..take];
                        text.Append(piece);
                        onText(piece);
                    }

                    if (take < chunk.Content.Length)
                    {
                        answerCut = true;
                        break;
                    }
                }

                if (!TakeCalls(chunk, calls, limits))
                {
                    break;
                }

                if (chunk.Metadata?.TryGetValue("Usage", out var raw) == true && raw is ChatTokenUsage reported)
                {
                    usage = new TokenUsage(reported.InputTokenCount, reported.OutputTokenCount);
                }
            }
        }
        catch (Exception e) when (started && !cancellationToken.IsCancellationRequested)
        {
            throw new AnswerInterruptedException(e);
        }

        var toolCalls = calls.Values
            .Select(c => new ModelToolCall(
                c.Id ?? "call_" + Guid.NewGuid().ToString("N")[..24],
                c.Name ?? "",
                c.ArgumentsCut ? Preview(c.Arguments) : c.Arguments.ToString(),
                c.ArgumentsCut))
            .ToList();
        var answer = text.ToString();
        var reply = answerCut
            ? answer + string.Create(CultureInfo.InvariantCulture, $"\n\n[answer cut at {limits.MaxAnswerChars:N0} characters]")
            : answer;
        // A stream aborted at a cap never reached its usage: estimated, like a provider that reports none.
        return new ModelReply(reply, toolCalls, usage ?? Estimate(chat, answer, toolCalls), answerCut, firstToken);
    }

    /// <summary>Collects the tool call fragments of a chunk; false when a cap was reached and the stream is to be aborted.</summary>
    private static bool TakeCalls(StreamingChatMessageContent chunk, SortedDictionary<int, PendingCall> calls, ReplyLimits limits)
    {
        foreach (var update in chunk.Items.OfType<StreamingFunctionCallUpdateContent>())
        {
            if (!calls.TryGetValue(update.FunctionCallIndex, out var call))
            {
                if (calls.Count >= limits.MaxCalls)
                {
                    return false; // the calls so far stand; the model hears about their results, not about more
                }

                call = calls[update.FunctionCallIndex] = new PendingCall();
            }

            call.Id ??= Short(update.CallId);
            call.Name ??= Short(update.Name);
            if (update.Arguments is { Length: > 0 } arguments)
            {
                if (call.Arguments.Length + arguments.Length > limits.MaxToolArgumentChars)
                {
                    call.ArgumentsCut = true;
                    call.Arguments.Append(arguments.AsSpan(0, Math.Min(arguments.Length, ReplyLimits.ArgumentsPreviewChars)));
                    return false;
                }

                call.Arguments.Append(arguments);
            }
        }

        return true;
    }

    private static string? Short(string? value) => value is { Length: > ReplyLimits.MaxNameChars } ? value[..ReplyLimits.MaxNameChars] : value;

    private static string Preview(StringBuilder arguments) =>
        arguments.Length > ReplyLimits.ArgumentsPreviewChars
            ? arguments.ToString(0, ReplyLimits.ArgumentsPreviewChars) + "…"
            : arguments + "…";

    private sealed class PendingCall
    {
        public string? Id { get; set; }
        public string? Name { get; set; }
        public StringBuilder Arguments { get; } = new();
        public bool ArgumentsCut { get; set; }
    }

    /// <summary>
    /// A provider that reports no usage still costs tokens: about four characters a token (the
    /// usual rule of thumb for English with GPT-style tokenizers), marked as estimated.
    /// </summary>
    public static TokenUsage Estimate(ChatHistory chat, string reply, IReadOnlyList<ModelToolCall> calls)
    {
        long promptChars = 0;
        foreach (var message in chat)
        {
            promptChars += (message.Content?.Length ?? 0) + 4;
            foreach (var item in message.Items)
            {
                promptChars += item switch
                {
                    FunctionResultContent r => r.Result?.ToString()?.Length ?? 0,
                    FunctionCallContent c => (c.FunctionName?.Length ?? 0) + (c.Arguments?.Sum(a => a.Key.Length + (a.Value?.ToString()?.Length ?? 0)) ?? 0),
                    _ => 0,
                };
            }
        }

        var completionChars = reply.Length + calls.Sum(c => c.Name.Length + c.Arguments.Length);
        return new TokenUsage((int)Math.Max(1, promptChars / 4), Math.Max(1, completionChars / 4), Estimated: true);
    }
}
