using System.Text;
using Conclave.Agents.Tools;
using Conclave.Sessions.Contracts;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;
using OpenAI.Chat;

namespace Conclave.Agents.Runs;

/// <summary>What the model said in one turn: text, tool calls (not yet executed) and usage.</summary>
internal sealed record ModelReply(string Text, IReadOnlyList<ModelToolCall> Calls, TokenUsage Usage);

/// <param name="Arguments">Exactly as the model sent them; checked later, not here.</param>
internal sealed record ModelToolCall(string CallId, string Name, string Arguments);

/// <summary>
/// Streams one completion through Semantic Kernel's OpenAI connector: text deltas go out as they
/// come, tool calls are collected (offered to the model, never invoked automatically: the
/// orchestrator checks and executes them as persisted steps).
/// </summary>
internal static class ModelTurn
{
    public static async Task<ModelReply> StreamAsync(
        IChatCompletionService model, ChatHistory chat, AgentToolbox tools, Action<string> onText, CancellationToken cancellationToken)
    {
        var settings = new OpenAIPromptExecutionSettings
        {
            FunctionChoiceBehavior = tools.Functions.Count > 0 ? FunctionChoiceBehavior.Auto(tools.Functions, autoInvoke: false) : null,
        };
        var text = new StringBuilder();
        var calls = new SortedDictionary<int, (string? Id, string? Name, StringBuilder Arguments)>();
        TokenUsage? usage = null;
        await foreach (var chunk in model.GetStreamingChatMessageContentsAsync(chat, settings, new Kernel(), cancellationToken))
        {
            if (!string.IsNullOrEmpty(chunk.Content))
            {
                text.Append(chunk.Content);
                onText(chunk.Content);
            }

            foreach (var update in chunk.Items.OfType<StreamingFunctionCallUpdateContent>())
            {
                var index = update.FunctionCallIndex;
                var call = calls.TryGetValue(index, out var known) ? known : (null, null, new StringBuilder());
                call.Id ??= update.CallId;
                call.Name ??= update.Name;
                call.Arguments.Append(update.Arguments);
                calls[index] = call;
            }

            if (chunk.Metadata?.TryGetValue("Usage", out var raw) == true && raw is ChatTokenUsage reported)
            {
                usage = new TokenUsage(reported.InputTokenCount, reported.OutputTokenCount);
            }
        }

        var toolCalls = calls.Values
            .Select(c => new ModelToolCall(c.Id ?? "call_" + Guid.NewGuid().ToString("N")[..24], c.Name ?? "", c.Arguments.ToString()))
            .ToList();
        return new ModelReply(text.ToString(), toolCalls, usage ?? Estimate(chat, text.ToString(), toolCalls));
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
