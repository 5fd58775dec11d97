using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Conclave.Chat.Slack;

/// <summary>
/// The few Slack Web API methods the bridge calls, on HttpClient. The token goes in the Authorization
/// header only (the Host redacts every logged header), never in a URL or a message.
/// </summary>
internal sealed class SlackWebApi(HttpClient http, Uri baseUrl, string botToken)
{
    /// <summary>The bot's own user id (to tell a mention of the bot from other mentions).</summary>
    public async Task<string> BotUserIdAsync(CancellationToken ct)
    {
        var answer = await CallJsonAsync("auth.test", new JsonObject(), botToken, ct);
        return answer["user_id"]?.GetValue<string>() ?? throw new SlackApiException("auth.test", "no user_id");
    }

    /// <summary>apps.connections.open with the app-level token: the WebSocket URL of a Socket Mode connection (a secret ticket).</summary>
    public async Task<Uri> OpenSocketAsync(string appToken, CancellationToken ct)
    {
        var answer = await CallJsonAsync("apps.connections.open", new JsonObject(), appToken, ct);
        return new Uri(answer["url"]?.GetValue<string>() ?? throw new SlackApiException("apps.connections.open", "no url"));
    }

    /// <returns>The message's ts (its id in the channel).</returns>
    public async Task<string> PostMessageAsync(string channel, string threadTs, string text, JsonArray? blocks, CancellationToken ct)
    {
        var body = new JsonObject { ["channel"] = channel, ["thread_ts"] = threadTs, ["text"] = text, ["unfurl_links"] = false };
        if (blocks is not null)
        {
            body["blocks"] = blocks;
        }

        var answer = await CallJsonAsync("chat.postMessage", body, botToken, ct);
        return answer["ts"]?.GetValue<string>() ?? throw new SlackApiException("chat.postMessage", "no ts");
    }

    public async Task UpdateAsync(string channel, string ts, string text, JsonArray? blocks, CancellationToken ct)
    {
        // An empty blocks array removes the blocks (the Stop button) of the message.
        var body = new JsonObject { ["channel"] = channel, ["ts"] = ts, ["text"] = text, ["blocks"] = blocks ?? [] };
        await CallJsonAsync("chat.update", body, botToken, ct);
    }

    public async Task PostEphemeralAsync(string channel, string user, string threadTs, string text, CancellationToken ct)
    {
        var body = new JsonObject { ["channel"] = channel, ["user"] = user, ["thread_ts"] = threadTs, ["text"] = text };
        await CallJsonAsync("chat.postEphemeral", body, botToken, ct);
    }

    /// <summary>Slack's external upload flow: ask for an upload URL, send the bytes there, complete it into the thread.</summary>
    public async Task UploadAsync(string channel, string threadTs, string fileName, byte[] content, CancellationToken ct)
    {
        var ticket = await CallFormAsync(
            "files.getUploadURLExternal",
            new Dictionary<string, string> { ["filename"] = fileName, ["length"] = content.Length.ToString(CultureInfo.InvariantCulture) },
            ct);
        var uploadUrl = ticket["upload_url"]?.GetValue<string>() ?? throw new SlackApiException("files.getUploadURLExternal", "no upload_url");
        var fileId = ticket["file_id"]?.GetValue<string>() ?? throw new SlackApiException("files.getUploadURLExternal", "no file_id");

        using (var upload = new ByteArrayContent(content))
        {
            upload.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var response = await http.PostAsync(new Uri(uploadUrl), upload, ct);
            ThrowOnRateLimit(response);
            if (!response.IsSuccessStatusCode)
            {
                throw new SlackApiException("file upload", $"HTTP {(int)response.StatusCode}");
            }
        }

        var files = new JsonArray(new JsonObject { ["id"] = fileId, ["title"] = fileName }).ToJsonString();
        await CallFormAsync(
            "files.completeUploadExternal",
            new Dictionary<string, string> { ["files"] = files, ["channel_id"] = channel, ["thread_ts"] = threadTs },
            ct);
    }

    private async Task<JsonObject> CallJsonAsync(string method, JsonObject body, string token, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, method))
        {
            Content = JsonContent.Create(body),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await SendAsync(method, request, ct);
    }

    private async Task<JsonObject> CallFormAsync(string method, Dictionary<string, string> fields, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, method))
        {
            Content = new FormUrlEncodedContent(fields),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", botToken);
        return await SendAsync(method, request, ct);
    }

    private async Task<JsonObject> SendAsync(string method, HttpRequestMessage request, CancellationToken ct)
    {
        using var response = await http.SendAsync(request, ct);
        ThrowOnRateLimit(response);
        if (!response.IsSuccessStatusCode)
        {
            throw new SlackApiException(method, $"HTTP {(int)response.StatusCode}");
        }

        JsonObject? answer;
        try
        {
            answer = await response.Content.ReadFromJsonAsync<JsonObject>(ct);
        }
        catch (JsonException)
        {
            throw new SlackApiException(method, "an answer that is not JSON");
        }

        if (answer is null || answer["ok"]?.GetValue<bool>() != true)
        {
            throw new SlackApiException(method, answer?["error"]?.GetValue<string>() ?? "ok is not true");
        }

        return answer;
    }

    private static void ThrowOnRateLimit(HttpResponseMessage response)
    {
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            var retryAfter = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
            throw new ChatRateLimitedException(retryAfter);
        }
    }
}

/// <summary>Slack answered ok=false (or not at all); the message names the method and Slack's error code, never a token.</summary>
internal sealed class SlackApiException(string method, string error) : Exception($"Slack {method} failed: {error}.")
{
    public string Error { get; } = error;
}

/// <summary>The platform answered 429: nothing may be sent to it before <see cref="RetryAfter"/> has passed.</summary>
internal sealed class ChatRateLimitedException(TimeSpan retryAfter) : Exception($"Rate limited; retry after {retryAfter.TotalSeconds:0.###} s.")
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}
