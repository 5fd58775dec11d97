using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conclave.Chat.Connections;
using Conclave.Chat.Conversations;
using Microsoft.Extensions.Logging;

namespace Conclave.Chat.Slack;

/// <summary>
/// One Slack Socket Mode connection: apps.connections.open with the app-level token, a WebSocket to the
/// URL it returns, every envelope acknowledged by its envelope_id once it is taken in, and a new
/// connection when Slack sends <c>disconnect</c> (or the socket drops). The URL carries a secret ticket: it is never logged.
/// </summary>
internal sealed partial class SlackSocketMode(
    Guid connectionId,
    string appToken,
    ChatClients clients,
    ChatInbox inbox,
    ConnectionStates states,
    TimeSpan reconnectDelay,
    TimeProvider time,
    ILogger logger)
{
    private const int MaxEnvelopeBytes = 1024 * 1024;

    public async Task RunAsync(CancellationToken ct)
    {
        var delay = reconnectDelay;
        while (!ct.IsCancellationRequested)
        {
            states.Set(connectionId, Contracts.ChatConnectionState.Connecting, null);
            try
            {
                var slack = await clients.SlackAsync(connectionId, ct);
                var botUserId = await clients.BotUserIdAsync(connectionId, ct);
                var url = await slack.OpenSocketAsync(appToken, ct);
                using var socket = new ClientWebSocket();
                await socket.ConnectAsync(url, ct);
                Log.Connected(logger, connectionId);
                states.Set(connectionId, Contracts.ChatConnectionState.Connected, null);
                delay = reconnectDelay;
                await ReceiveAsync(socket, botUserId, ct);
                Log.Reconnecting(logger, connectionId);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is WebSocketException or HttpRequestException or SlackApiException or JsonException or InvalidOperationException or ChatRateLimitedException)
            {
                states.Set(connectionId, Contracts.ChatConnectionState.Failed, e.Message);
                Log.Dropped(logger, connectionId, e.GetType().Name, e.Message);
                await Task.Delay(e is ChatRateLimitedException limited ? limited.RetryAfter : delay, time, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }

        states.Set(connectionId, Contracts.ChatConnectionState.Stopped, null);
    }

    /// <summary>Reads envelopes until Slack asks for a new connection or the socket closes.</summary>
    private async Task ReceiveAsync(ClientWebSocket socket, string botUserId, CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        while (socket.State == WebSocketState.Open)
        {
            message.SetLength(0);
            WebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer, ct);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                if (message.Length + result.Count > MaxEnvelopeBytes)
                {
                    throw new WebSocketException("An envelope from Slack was larger than 1 MB.");
                }

                message.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage);

            var envelope = JsonNode.Parse(message.ToArray());
            switch (envelope?["type"]?.GetValue<string>())
            {
                case "disconnect":
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    return;
                case "events_api" when envelope["payload"] is { } payload:
                    if (SlackEvents.Message(payload, botUserId) is { } incoming)
                    {
                        await TakeAsync(incoming, ct);
                    }

                    await AckAsync(socket, envelope, ct);
                    break;
                case "interactive" when envelope["payload"] is { } payload:
                    // Acknowledged first: Slack shows the click as failed after 3 s, and Stop must be quick anyway.
                    await AckAsync(socket, envelope, ct);
                    if (SlackEvents.StopClick(payload) is { } click)
                    {
                        await inbox.StopAsync(connectionId, click.UserId, click.RunId, ct);
                    }

                    break;
                default:
                    if (envelope?["envelope_id"] is not null)
                    {
                        await AckAsync(socket, envelope, ct);
                    }

                    break;
            }
        }
    }

    private async Task TakeAsync(IncomingMessage incoming, CancellationToken ct)
    {
        try
        {
            await inbox.HandleAsync(connectionId, incoming, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Still acknowledged: the event id was forgotten, and the user can send the message again.
            Log.EventFailed(logger, e, connectionId, incoming.EventId);
        }
    }

    private static Task AckAsync(ClientWebSocket socket, JsonNode envelope, CancellationToken ct)
    {
        var ack = new JsonObject { ["envelope_id"] = envelope["envelope_id"]?.GetValue<string>() }.ToJsonString();
        return socket.SendAsync(Encoding.UTF8.GetBytes(ack), WebSocketMessageType.Text, endOfMessage: true, ct);
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Information, "Slack connection {ConnectionId} is connected (Socket Mode)")]
        public static partial void Connected(ILogger logger, Guid connectionId);

        [LoggerMessage(LogLevel.Information, "Slack asked connection {ConnectionId} to reconnect")]
        public static partial void Reconnecting(ILogger logger, Guid connectionId);

        [LoggerMessage(LogLevel.Warning, "Slack connection {ConnectionId} dropped ({Error}: {Message}); reconnecting")]
        public static partial void Dropped(ILogger logger, Guid connectionId, string error, string message);

        [LoggerMessage(LogLevel.Error, "Taking in event {EventId} of Slack connection {ConnectionId} failed")]
        public static partial void EventFailed(ILogger logger, Exception exception, Guid connectionId, string eventId);
    }
}
