using System.Text.Json.Nodes;

namespace Conclave.Testing;

/// <summary>
/// The JSON documents of OpenAI's chat completions API, built field by field so the wire format
/// (including explicit nulls the real service sends) is visible in one place.
/// </summary>
internal sealed class OpenAiWire(string completionId, long created, string model, bool usageOnEveryChunk)
{
    public const string FingerPrint = "fp_scripted";

    public string Completion(Reply reply, IReadOnlyList<string> toolCallIds, TokenUsage usage)
    {
        var message = new JsonObject
        {
            ["role"] = "assistant",
            ["content"] = reply.Content,
            ["refusal"] = null,
        };
        if (reply.ToolCalls.Count > 0)
        {
            message["tool_calls"] = new JsonArray(reply.ToolCalls.Select((call, i) => (JsonNode)new JsonObject
            {
                ["id"] = toolCallIds[i],
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = call.ArgumentsJson },
            }).ToArray());
        }

        var completion = Envelope("chat.completion", new JsonObject
        {
            ["index"] = 0,
            ["message"] = message,
            ["logprobs"] = null,
            ["finish_reason"] = reply.FinishReason,
        });
        completion["usage"] = Usage(usage);
        return completion.ToJsonString();
    }

    public string ContentChunk(string content, bool first)
    {
        var delta = new JsonObject();
        if (first)
        {
            delta["role"] = "assistant";
        }

        delta["content"] = content;
        return Chunk(delta, finishReason: null);
    }

    /// <summary>
    /// The first fragment of a tool call carries its id, type and name; later ones only arguments,
    /// matched up by index, exactly as OpenAI streams them.
    /// </summary>
    public string ToolCallChunk(int index, string id, string name, string argumentsFragment, bool firstOfCall, bool firstOfReply)
    {
        var function = new JsonObject();
        var call = new JsonObject { ["index"] = index };
        if (firstOfCall)
        {
            call["id"] = id;
            call["type"] = "function";
            function["name"] = name;
        }

        function["arguments"] = argumentsFragment;
        call["function"] = function;

        var delta = new JsonObject();
        if (firstOfReply)
        {
            delta["role"] = "assistant";
            delta["content"] = null;
        }

        delta["tool_calls"] = new JsonArray(call);
        return Chunk(delta, finishReason: null);
    }

    public string FinishChunk(string finishReason, TokenUsage? usage)
    {
        var chunk = ChunkObject(new JsonObject(), finishReason);
        if (usage is not null)
        {
            chunk["usage"] = Usage(usage);
        }

        return chunk.ToJsonString();
    }

    /// <summary>The extra chunk for <c>stream_options.include_usage</c>: no choices, only usage.</summary>
    public string UsageChunk(TokenUsage usage)
    {
        var chunk = Envelope("chat.completion.chunk", choice: null);
        chunk["usage"] = Usage(usage);
        return chunk.ToJsonString();
    }

    public static string Error(int statusCode, string message) => new JsonObject
    {
        ["error"] = new JsonObject
        {
            ["message"] = message,
            ["type"] = statusCode switch
            {
                429 => "requests",
                >= 500 => "server_error",
                _ => "invalid_request_error",
            },
            ["param"] = null,
            ["code"] = statusCode switch
            {
                401 => "invalid_api_key",
                404 => "model_not_found",
                429 => "rate_limit_exceeded",
                _ => null,
            },
        },
    }.ToJsonString();

    public static string Models(IEnumerable<string> ids) => new JsonObject
    {
        ["object"] = "list",
        ["data"] = new JsonArray(ids.Select(id => (JsonNode)Model(id)).ToArray()),
    }.ToJsonString();

    public static JsonObject Model(string id) => new()
    {
        ["id"] = id,
        ["object"] = "model",
        ["created"] = 1_700_000_000,
        ["owned_by"] = "conclave-tests",
    };

    private string Chunk(JsonObject delta, string? finishReason) => ChunkObject(delta, finishReason).ToJsonString();

    private JsonObject ChunkObject(JsonObject delta, string? finishReason)
    {
        var chunk = Envelope("chat.completion.chunk", new JsonObject
        {
            ["index"] = 0,
            ["delta"] = delta,
            ["logprobs"] = null,
            ["finish_reason"] = finishReason,
        });
        // With include_usage, OpenAI sends "usage": null on every chunk before the usage chunk.
        if (usageOnEveryChunk)
        {
            chunk["usage"] = null;
        }

        return chunk;
    }

    private JsonObject Envelope(string objectType, JsonObject? choice) => new()
    {
        ["id"] = completionId,
        ["object"] = objectType,
        ["created"] = created,
        ["model"] = model,
        ["system_fingerprint"] = FingerPrint,
        ["choices"] = choice is null ? new JsonArray() : new JsonArray(choice),
    };

    private static JsonObject Usage(TokenUsage usage) => new()
    {
        ["prompt_tokens"] = usage.PromptTokens,
        ["completion_tokens"] = usage.CompletionTokens,
        ["total_tokens"] = usage.TotalTokens,
    };
}
