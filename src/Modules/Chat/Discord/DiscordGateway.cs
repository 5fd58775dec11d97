using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conclave.Chat.Connections;
using Conclave.Chat.Contracts;
using Conclave.Chat.Conversations;
using Conclave.Chat.Slack;
using Microsoft.Extensions.Logging;

namespace Conclave.Chat.Discord;

/// <summary>
/// One Discord Gateway (v10, JSON) connection: HELLO, IDENTIFY (or RESUME with the session id and the last
/// sequence number after a drop or a RECONNECT), heartbeats at the interval HELLO gives, DISPATCH of
/// MESSAGE_CREATE and INTERACTION_CREATE (the Stop button). INVALID_SESSION that cannot be resumed starts a
/// new session. Events the Gateway replays after a resume carry ids the inbox has recorded: nothing starts twice.
/// </summary>
internal sealed partial class DiscordGateway(
    Guid connectionId,
    ChatClients clients,
    ChatInbox inbox,
    ConnectionStates states,
    TimeSpan reconnectDelay,
    TimeProvider time,
    ILogger logger)
{
    // GUILD_MESSAGES | DIRECT_MESSAGES | MESSAGE_CONTENT.
    private const int Intents = (1 << 9) | (1 << 12) | (1 << 15);
    private const int MaxPayloadBytes = 1024 * 1024;

    private readonly SemaphoreSlim _sending = new(1, 1);
    private string? _sessionId;
    private Uri? _resumeUrl;
    private long? _sequence;

    public async Task RunAsync(CancellationToken ct)
    {
        var delay = reconnectDelay;
        while (!ct.IsCancellationRequested)
        {
            states.Set(connectionId, ChatConnectionState.Connecting, null);
            try
            {
                var rest = await clients.DiscordAsync(connectionId, ct);
                var botUserId = await clients.BotUserIdAsync(connectionId, ct);
                var url = _sessionId is not null && _resumeUrl is not null ? _resumeUrl : await rest.GatewayUrlAsync(ct);
                using var socket = new ClientWebSocket();
                await socket.ConnectAsync(new Uri(url.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/?v=10&encoding=json"), ct);
                await SessionAsync(socket, rest, botUserId, ct);
                delay = reconnectDelay;
                Log.Reconnecting(logger, connectionId, _sessionId is not null);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is WebSocketException or HttpRequestException or DiscordApiException or JsonException or InvalidOperationException or ChatRateLimitedException)
            {
                states.Set(connectionId, ChatConnectionState.Failed, e.Message);
                Log.Dropped(logger, connectionId, e.GetType().Name, e.Message);
                await Task.Delay(e is ChatRateLimitedException limited ? limited.RetryAfter : delay, time, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }

        states.Set(connectionId, ChatConnectionState.Stopped, null);
    }

    /// <summary>One connection's life: until Discord asks to reconnect, invalidates the session or the socket closes.</summary>
    private async Task SessionAsync(ClientWebSocket socket, DiscordRest rest, string botUserId, CancellationToken ct)
    {
        var hello = await ReceiveAsync(socket, ct) ?? throw new WebSocketException("The Gateway closed before HELLO.");
        if (hello["op"]?.GetValue<int>() != 10)
        {
            throw new WebSocketException("The Gateway's first payload was not HELLO.");
        }

        var interval = TimeSpan.FromMilliseconds(hello["d"]!["heartbeat_interval"]!.GetValue<double>());
        if (_sessionId is not null)
        {
            await SendAsync(socket, new JsonObject
            {
                ["op"] = 6,
                ["d"] = new JsonObject { ["token"] = rest.BotToken, ["session_id"] = _sessionId, ["seq"] = _sequence },
            }, ct);
        }
        else
        {
            await SendAsync(socket, new JsonObject
            {
                ["op"] = 2,
                ["d"] = new JsonObject
                {
                    ["token"] = rest.BotToken,
                    ["intents"] = Intents,
                    ["properties"] = new JsonObject { ["os"] = "linux", ["browser"] = "conclave", ["device"] = "conclave" },
                },
            }, ct);
        }

        using var heartbeats = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var beating = HeartbeatAsync(socket, interval, heartbeats.Token);
        try
        {
            while (await ReceiveAsync(socket, ct) is { } payload)
            {
                switch (payload["op"]?.GetValue<int>())
                {
                    case 0:
                        if (payload["s"]?.GetValue<long>() is { } s)
                        {
                            _sequence = s;
                        }

                        await DispatchAsync(payload["t"]?.GetValue<string>(), payload["d"], rest, botUserId, ct);
                        break;
                    case 1:
                        await SendAsync(socket, new JsonObject { ["op"] = 1, ["d"] = _sequence }, ct);
                        break;
                    case 7:
                        // RECONNECT: resume on a new connection.
                        return;
                    case 9:
                        if (payload["d"]?.GetValue<bool>() != true)
                        {
                            _sessionId = null;
                            _sequence = null;
                        }

                        return;
                }
            }
        }
        finally
        {
            await heartbeats.CancelAsync();
            await beating.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (socket.State == WebSocketState.Open)
            {
                // 4000: not 1000, which would end the session; a resume follows.
                await socket.CloseOutputAsync((WebSocketCloseStatus)4000, "reconnect", CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task DispatchAsync(string? type, JsonNode? data, DiscordRest rest, string botUserId, CancellationToken ct)
    {
        switch (type)
        {
            case "READY":
                _sessionId = data?["session_id"]?.GetValue<string>();
                _resumeUrl = data?["resume_gateway_url"]?.GetValue<string>() is { } resume ? new Uri(resume) : null;
                states.Set(connectionId, ChatConnectionState.Connected, null);
                Log.Connected(logger, connectionId, "READY");
                break;
            case "RESUMED":
                states.Set(connectionId, ChatConnectionState.Connected, null);
                Log.Connected(logger, connectionId, "RESUMED");
                break;
            case "MESSAGE_CREATE" when data is not null && DiscordEvents.Message(data, botUserId) is { } incoming:
                try
                {
                    await inbox.HandleAsync(connectionId, incoming, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.EventFailed(logger, e, connectionId, incoming.EventId);
                }

                break;
            case "INTERACTION_CREATE" when data is not null && DiscordEvents.StopClick(data) is { } click:
                await rest.AcknowledgeInteractionAsync(click.InteractionId, click.InteractionToken, ct);
                await inbox.StopAsync(connectionId, click.UserId, click.RunId, ct);
                break;
        }
    }

    private async Task HeartbeatAsync(ClientWebSocket socket, TimeSpan interval, CancellationToken ct)
    {
        // The first beat after interval × jitter, as Discord asks, then every interval.
        await Task.Delay(interval * Random.Shared.NextDouble(), time, ct);
        while (!ct.IsCancellationRequested && socket.State == WebSocketState.Open)
        {
            await SendAsync(socket, new JsonObject { ["op"] = 1, ["d"] = _sequence }, ct);
            await Task.Delay(interval, time, ct);
        }
    }

    private async Task SendAsync(ClientWebSocket socket, JsonObject payload, CancellationToken ct)
    {
        await _sending.WaitAsync(ct);
        try
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(payload.ToJsonString()), WebSocketMessageType.Text, endOfMessage: true, ct);
        }
        finally
        {
            _sending.Release();
        }
    }

    private static async Task<JsonNode?> ReceiveAsync(ClientWebSocket socket, CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, ct);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            if (message.Length + result.Count > MaxPayloadBytes)
            {
                throw new WebSocketException("A Gateway payload was larger than 1 MB.");
            }

            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);

        return JsonNode.Parse(message.ToArray());
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Information, "Discord connection {ConnectionId} is connected ({How})")]
        public static partial void Connected(ILogger logger, Guid connectionId, string how);

        [LoggerMessage(LogLevel.Information, "Discord connection {ConnectionId} reconnects (resume: {Resume})")]
        public static partial void Reconnecting(ILogger logger, Guid connectionId, bool resume);

        [LoggerMessage(LogLevel.Warning, "Discord connection {ConnectionId} dropped ({Error}: {Message}); reconnecting")]
        public static partial void Dropped(ILogger logger, Guid connectionId, string error, string message);

        [LoggerMessage(LogLevel.Error, "Taking in message {EventId} of Discord connection {ConnectionId} failed")]
        public static partial void EventFailed(ILogger logger, Exception exception, Guid connectionId, string eventId);
    }
}

/// <summary>Reads what the bridge needs from Gateway dispatches.</summary>
internal static class DiscordEvents
{
    /// <summary>A user's message (bots', the bot's own included, are ignored); a DM or a mention of the bot may start a conversation.</summary>
    public static IncomingMessage? Message(JsonNode data, string botUserId)
    {
        if (data["author"] is not JsonObject author || author["bot"]?.GetValue<bool>() == true
            || author["id"]?.GetValue<string>() is not { } user || user == botUserId
            || data["id"]?.GetValue<string>() is not { } id || data["channel_id"]?.GetValue<string>() is not { } channel)
        {
            return null;
        }

        var direct = data["guild_id"] is null;
        var mentioned = data["mentions"]?.AsArray().Any(m => m?["id"]?.GetValue<string>() == botUserId) == true;
        return new IncomingMessage(id, channel, channel, user, data["content"]?.GetValue<string>() ?? "", mentioned || direct, direct, id);
    }

    /// <summary>A click on a Stop button (a MESSAGE_COMPONENT interaction).</summary>
    public static (string InteractionId, string InteractionToken, string UserId, Guid RunId)? StopClick(JsonNode data)
    {
        var customId = data["data"]?["custom_id"]?.GetValue<string>();
        var user = data["member"]?["user"]?["id"]?.GetValue<string>() ?? data["user"]?["id"]?.GetValue<string>();
        if (data["type"]?.GetValue<int>() != 3 || customId is null || user is null
            || !customId.StartsWith(DiscordThreadOutput.StopPrefix, StringComparison.Ordinal)
            || !Guid.TryParse(customId[DiscordThreadOutput.StopPrefix.Length..], out var runId)
            || data["id"]?.GetValue<string>() is not { } interactionId || data["token"]?.GetValue<string>() is not { } token)
        {
            return null;
        }

        return (interactionId, token, user, runId);
    }
}
