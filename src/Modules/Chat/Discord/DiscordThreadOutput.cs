using System.Text.Json.Nodes;
using Conclave.Chat.Answers;
using Conclave.Chat.Storage;

namespace Conclave.Chat.Discord;

/// <summary>Answers in a Discord thread (a thread is a channel): Discord markdown as is, a Stop button component while the run goes.</summary>
internal sealed class DiscordThreadOutput(DiscordRest rest, int maxLength) : IChatOutput
{
    public const string StopPrefix = "conclave_stop:";

    /// <summary>Discord's limit for a message's content.</summary>
    public const int ContentLimit = 2000;

    public int MaxLength { get; } = Math.Min(maxLength, ContentLimit);

    public string Format(string markdown) => markdown;

    public Task<string> PostAsync(ChatPlace place, string text, Guid? stopRunId, CancellationToken ct) =>
        rest.CreateMessageAsync(place.ThreadId, text, Components(stopRunId), ct);

    public Task UpdateAsync(ChatPlace place, string messageId, string text, Guid? stopRunId, CancellationToken ct) =>
        rest.EditMessageAsync(place.ThreadId, messageId, text, Components(stopRunId), ct);

    public async Task PostPrivateAsync(ChatPlace place, string userId, string text, CancellationToken ct)
    {
        var direct = await rest.DirectChannelAsync(userId, ct);
        await rest.CreateMessageAsync(direct, text, null, ct);
    }

    public Task UploadAsync(ChatPlace place, string fileName, byte[] content, CancellationToken ct) =>
        rest.UploadAsync(place.ThreadId, fileName, content, ct);

    public async Task<ChatPlace> OpenThreadAsync(ChatPlace place, string messageId, string title, CancellationToken ct)
    {
        var thread = await rest.StartThreadAsync(place.ChannelId, messageId, title.Length is > 0 and <= 100 ? title : "Conclave", ct);
        return new ChatPlace(place.ConnectionId, thread, thread);
    }

    private static JsonArray? Components(Guid? stopRunId) => stopRunId is not { } runId
        ? null
        : new JsonArray(new JsonObject
        {
            ["type"] = 1,
            ["components"] = new JsonArray(new JsonObject
            {
                ["type"] = 2,
                ["style"] = 4,
                ["label"] = "Stop",
                ["custom_id"] = StopPrefix + runId,
            }),
        });
}
