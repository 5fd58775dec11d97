using System.Text.Json.Nodes;
using Conclave.Chat.Answers;
using Conclave.Chat.Storage;

namespace Conclave.Chat.Slack;

/// <summary>Answers in a Slack thread: mrkdwn in a section block, and a Block Kit Stop button while the run goes.</summary>
internal sealed class SlackThreadOutput(SlackWebApi api, int maxLength) : IChatOutput
{
    public const string StopActionId = "conclave_stop";

    public int MaxLength => maxLength;

    public string Format(string markdown) => Mrkdwn.FromMarkdown(markdown);

    public Task<string> PostAsync(ChatPlace place, string text, Guid? stopRunId, CancellationToken ct) =>
        api.PostMessageAsync(place.ChannelId, place.ThreadId, text, Blocks(text, stopRunId), ct);

    public Task UpdateAsync(ChatPlace place, string messageId, string text, Guid? stopRunId, CancellationToken ct) =>
        api.UpdateAsync(place.ChannelId, messageId, text, Blocks(text, stopRunId), ct);

    public Task PostPrivateAsync(ChatPlace place, string userId, string text, CancellationToken ct) =>
        api.PostEphemeralAsync(place.ChannelId, userId, place.ThreadId, text, ct);

    public Task UploadAsync(ChatPlace place, string fileName, byte[] content, CancellationToken ct) =>
        api.UploadAsync(place.ChannelId, place.ThreadId, fileName, content, ct);

    public Task<ChatPlace> OpenThreadAsync(ChatPlace place, string messageId, string title, CancellationToken ct) => Task.FromResult(place);

    private static JsonArray? Blocks(string text, Guid? stopRunId) => stopRunId is not { } runId
        ? null
        : new JsonArray(
            new JsonObject
            {
                ["type"] = "section",
                ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = text },
            },
            new JsonObject
            {
                ["type"] = "actions",
                ["elements"] = new JsonArray(new JsonObject
                {
                    ["type"] = "button",
                    ["action_id"] = StopActionId,
                    ["style"] = "danger",
                    ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = "Stop" },
                    ["value"] = runId.ToString(),
                }),
            });
}
