using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conclave.Chat.Slack;

namespace Conclave.Chat.Discord;

/// <summary>
/// The Discord REST calls the bridge makes (API v10), on HttpClient. The bot token goes in the Authorization
/// header only (<c>Bot …</c>); 429s surface as <see cref="ChatRateLimitedException"/> with Discord's Retry-After.
/// </summary>
internal sealed class DiscordRest(HttpClient http, Uri baseUrl, string botToken)
{
    public string BotToken => botToken;

    public async Task<Uri> GatewayUrlAsync(CancellationToken ct)
    {
        var answer = await SendAsync(HttpMethod.Get, "gateway/bot", null, ct);
        return new Uri(answer["url"]?.GetValue<string>() ?? throw new DiscordApiException("gateway/bot", "no url"));
    }

    public async Task<string> BotUserIdAsync(CancellationToken ct)
    {
        var answer = await SendAsync(HttpMethod.Get, "users/@me", null, ct);
        return answer["id"]?.GetValue<string>() ?? throw new DiscordApiException("users/@me", "no id");
    }

    /// <returns>The message id.</returns>
    public async Task<string> CreateMessageAsync(string channelId, string content, JsonArray? components, CancellationToken ct)
    {
        var body = new JsonObject { ["content"] = content, ["components"] = components ?? [], ["allowed_mentions"] = new JsonObject { ["parse"] = new JsonArray() } };
        var answer = await SendAsync(HttpMethod.Post, $"channels/{channelId}/messages", JsonContent.Create(body), ct);
        return answer["id"]?.GetValue<string>() ?? throw new DiscordApiException("create message", "no id");
    }

    public async Task EditMessageAsync(string channelId, string messageId, string content, JsonArray? components, CancellationToken ct)
    {
        var body = new JsonObject { ["content"] = content, ["components"] = components ?? [] };
        await SendAsync(HttpMethod.Patch, $"channels/{channelId}/messages/{messageId}", JsonContent.Create(body), ct);
    }

    /// <summary>Starts a public thread from a message; returns the thread's channel id.</summary>
    public async Task<string> StartThreadAsync(string channelId, string messageId, string name, CancellationToken ct)
    {
        var body = new JsonObject { ["name"] = name, ["auto_archive_duration"] = 1440 };
        var answer = await SendAsync(HttpMethod.Post, $"channels/{channelId}/messages/{messageId}/threads", JsonContent.Create(body), ct);
        return answer["id"]?.GetValue<string>() ?? throw new DiscordApiException("start thread", "no id");
    }

    /// <summary>The DM channel with a user (for the private account link).</summary>
    public async Task<string> DirectChannelAsync(string userId, CancellationToken ct)
    {
        var answer = await SendAsync(HttpMethod.Post, "users/@me/channels", JsonContent.Create(new JsonObject { ["recipient_id"] = userId }), ct);
        return answer["id"]?.GetValue<string>() ?? throw new DiscordApiException("create DM", "no id");
    }

    /// <summary>A message with one attachment (multipart: payload_json and files[0]).</summary>
    public async Task UploadAsync(string channelId, string fileName, byte[] content, CancellationToken ct)
    {
        var payload = new JsonObject { ["attachments"] = new JsonArray(new JsonObject { ["id"] = 0, ["filename"] = fileName }) };
        var form = new MultipartFormDataContent
        {
            { new StringContent(payload.ToJsonString(), System.Text.Encoding.UTF8, "application/json"), "payload_json" },
        };
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "files[0]", fileName);
        await SendAsync(HttpMethod.Post, $"channels/{channelId}/messages", form, ct);
    }

    /// <summary>Acknowledges a component click (DEFERRED_UPDATE_MESSAGE): Discord shows no error, the message is edited later.</summary>
    public Task AcknowledgeInteractionAsync(string interactionId, string interactionToken, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, $"interactions/{interactionId}/{interactionToken}/callback", JsonContent.Create(new JsonObject { ["type"] = 6 }), ct);

    private async Task<JsonObject> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, new Uri(baseUrl, path)) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bot", botToken);
        using var response = await http.SendAsync(request, ct);
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            var seconds = response.Headers.TryGetValues("Retry-After", out var values)
                && double.TryParse(values.First(), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) ? s : 1;
            throw new ChatRateLimitedException(TimeSpan.FromSeconds(seconds));
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new DiscordApiException(path.Split('/')[0], $"HTTP {(int)response.StatusCode}");
        }

        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return [];
        }

        try
        {
            return await response.Content.ReadFromJsonAsync<JsonObject>(ct) ?? [];
        }
        catch (JsonException)
        {
            throw new DiscordApiException(path.Split('/')[0], "an answer that is not JSON");
        }
    }
}

/// <summary>Discord refused a call; the message names the route and status, never the token.</summary>
internal sealed class DiscordApiException(string route, string error) : Exception($"Discord {route} failed: {error}.");
