using System.Text.Json.Nodes;
using Conclave.Chat.Conversations;

namespace Conclave.Chat.Slack;

/// <summary>Reads what the bridge needs from Slack's Events API payloads (the same in Socket Mode envelopes and HTTP posts).</summary>
internal static class SlackEvents
{
    /// <summary>
    /// The message of an <c>event_callback</c>, or null for what the bot ignores: other event types, edits
    /// and other subtypes, bots (itself included), and plain messages that mention the bot (their
    /// <c>app_mention</c> event is the one taken).
    /// </summary>
    public static IncomingMessage? Message(JsonNode payload, string botUserId)
    {
        if (payload["type"]?.GetValue<string>() != "event_callback"
            || payload["event_id"]?.GetValue<string>() is not { Length: > 0 } eventId
            || payload["event"] is not JsonObject e)
        {
            return null;
        }

        var type = e["type"]?.GetValue<string>();
        var user = e["user"]?.GetValue<string>();
        var channel = e["channel"]?.GetValue<string>();
        var ts = e["ts"]?.GetValue<string>();
        var text = e["text"]?.GetValue<string>() ?? "";
        if (user is null || channel is null || ts is null || e["bot_id"] is not null || e["subtype"] is not null || user == botUserId)
        {
            return null;
        }

        var thread = e["thread_ts"]?.GetValue<string>() ?? ts;
        var direct = e["channel_type"]?.GetValue<string>() == "im";
        return type switch
        {
            "app_mention" => new IncomingMessage(eventId, channel, thread, user, text, Mentioned: true, Direct: false, ts),
            "message" when direct => new IncomingMessage(eventId, channel, thread, user, text, Mentioned: true, Direct: true, ts),
            "message" when !text.Contains($"<@{botUserId}>", StringComparison.Ordinal) =>
                new IncomingMessage(eventId, channel, thread, user, text, Mentioned: false, Direct: false, ts),
            _ => null,
        };
    }

    /// <summary>A click on the Stop button of a <c>block_actions</c> payload: who clicked, and the run.</summary>
    public static (string UserId, Guid RunId)? StopClick(JsonNode payload)
    {
        if (payload["type"]?.GetValue<string>() != "block_actions" || payload["user"]?["id"]?.GetValue<string>() is not { } user)
        {
            return null;
        }

        foreach (var action in payload["actions"]?.AsArray() ?? [])
        {
            if (action?["action_id"]?.GetValue<string>() == SlackThreadOutput.StopActionId
                && Guid.TryParse(action["value"]?.GetValue<string>(), out var runId))
            {
                return (user, runId);
            }
        }

        return null;
    }
}
