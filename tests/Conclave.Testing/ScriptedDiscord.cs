using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Conclave.Testing;

/// <summary>
/// A Discord stand-in on loopback speaking the real wire protocol: REST v10 (Bot-token checked; messages,
/// threads, DMs, multipart attachments, interaction callbacks) and the Gateway (HELLO, IDENTIFY → READY,
/// heartbeat ACKs, sequence numbers, RECONNECT, RESUME replaying the dispatches after the client's sequence, RESUMED).
/// </summary>
public sealed class ScriptedDiscord : IAsyncDisposable
{
    public const string BotUserId = "900000000000000001";
    public const string GuildId = "800000000000000001";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, DiscordMessage> _messages = new();
    private readonly ConcurrentQueue<(string Channel, string FileName, byte[] Content)> _attachments = new();
    private readonly ConcurrentDictionary<string, string> _threadParents = new();
    private readonly ConcurrentQueue<string> _interactionCallbacks = new();
    private readonly ConcurrentQueue<TimeSpan> _rateLimits = new();
    private readonly ConcurrentQueue<long> _editsAt = new();
    private readonly List<JsonObject> _dispatched = [];
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private WebSocket? _socket;
    private long _snowflake = 1_100_000_000_000_000_000;
    private long _sequence;
    private string _sessionId = "";
    private int _identified;
    private int _resumed;

    private ScriptedDiscord(WebApplication app, string botToken)
    {
        _app = app;
        BotToken = botToken;
        _app.UseWebSockets();
        _app.Run(HandleAsync);
    }

    public string BotToken { get; }

    /// <summary>The REST base, e.g. <c>http://127.0.0.1:PORT/api/v10/</c> (the Host's Conclave:Chat:DiscordApiUrl).</summary>
    public Uri ApiUrl { get; private set; } = null!;

    /// <summary>IDENTIFYs received (new sessions).</summary>
    public int Identified => Volatile.Read(ref _identified);

    /// <summary>RESUMEs accepted.</summary>
    public int Resumed => Volatile.Read(ref _resumed);

    public IReadOnlyList<DiscordMessage> Messages => _messages.Values.OrderBy(m => long.Parse(m.Id, CultureInfo.InvariantCulture)).ToList();

    public IReadOnlyList<(string Channel, string FileName, byte[] Content)> Attachments => _attachments.ToArray();

    public IReadOnlyList<string> InteractionCallbacks => _interactionCallbacks.ToArray();

    /// <summary>The next message edit is answered 429 with this Retry-After (seconds, as Discord sends, with a JSON retry_after).</summary>
    public void RateLimitNextEdit(TimeSpan retryAfter) => _rateLimits.Enqueue(retryAfter);

    /// <summary>When each PATCH of a message arrived (Stopwatch ticks), 429s included.</summary>
    public IReadOnlyList<long> EditsAt => _editsAt.ToArray();

    /// <summary>The thread the bot started from message <paramref name="messageId"/>, if any.</summary>
    public string? ThreadOf(string messageId) => _threadParents.TryGetValue(messageId, out var thread) ? thread : null;

    public IReadOnlyList<DiscordMessage> InChannel(string channel) => Messages.Where(m => m.Channel == channel).ToList();

    public static async Task<ScriptedDiscord> StartAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var discord = new ScriptedDiscord(builder.Build(), "discord-bot-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20)));
        await discord._app.StartAsync();
        discord.ApiUrl = new Uri(discord._app.Urls.Single().TrimEnd('/') + "/api/v10/");
        return discord;
    }

    public string NextId() => Interlocked.Increment(ref _snowflake).ToString(CultureInfo.InvariantCulture);

    /// <summary>A MESSAGE_CREATE of a user in a guild channel, mentioning the bot when <paramref name="mention"/>.</summary>
    public JsonObject UserMessage(string channel, string user, string text, bool mention) => new()
    {
        ["id"] = NextId(),
        ["channel_id"] = channel,
        ["guild_id"] = GuildId,
        ["author"] = new JsonObject { ["id"] = user, ["username"] = "user" + user[^4..], ["bot"] = false },
        ["content"] = mention ? $"<@{BotUserId}> {text}" : text,
        ["mentions"] = mention ? new JsonArray(new JsonObject { ["id"] = BotUserId, ["bot"] = true }) : new JsonArray(),
        ["timestamp"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
    };

    /// <summary>Sends (or, when no socket is connected, only records for a resume to replay) a dispatch with the next sequence number.</summary>
    public async Task DispatchAsync(string type, JsonObject data)
    {
        JsonObject payload;
        WebSocket? socket;
        lock (_lock)
        {
            payload = new JsonObject { ["op"] = 0, ["s"] = ++_sequence, ["t"] = type, ["d"] = data.DeepClone() };
            _dispatched.Add(payload);
            socket = _socket;
        }

        if (socket is not null)
        {
            await SendAsync(socket, payload);
        }
    }

    /// <summary>A click on the Stop button of a bot message (INTERACTION_CREATE, type MESSAGE_COMPONENT).</summary>
    public Task ClickStopAsync(DiscordMessage message, string user)
    {
        var customId = message.Components?.AsArray()
            .SelectMany(row => row?["components"]?.AsArray() ?? [])
            .Select(c => c?["custom_id"]?.GetValue<string>())
            .FirstOrDefault(id => id?.StartsWith("conclave_stop:", StringComparison.Ordinal) == true)
            ?? throw new InvalidOperationException($"Message {message.Id} has no Stop button.");
        return DispatchAsync("INTERACTION_CREATE", new JsonObject
        {
            ["id"] = NextId(),
            ["token"] = "interaction-token-" + NextId(),
            ["type"] = 3,
            ["channel_id"] = message.Channel,
            ["member"] = new JsonObject { ["user"] = new JsonObject { ["id"] = user } },
            ["data"] = new JsonObject { ["custom_id"] = customId, ["component_type"] = 2 },
            ["message"] = new JsonObject { ["id"] = message.Id },
        });
    }

    /// <summary>Sends RECONNECT (op 7) and forgets the socket: dispatches until the client resumes are only recorded.</summary>
    public async Task ForceReconnectAsync()
    {
        WebSocket? socket;
        lock (_lock)
        {
            socket = _socket;
            _socket = null;
        }

        if (socket is not null)
        {
            await SendAsync(socket, new JsonObject { ["op"] = 7, ["d"] = null });
        }
    }

    private async Task SendAsync(WebSocket socket, JsonObject payload)
    {
        await _sending.WaitAsync();
        try
        {
            if (socket.State == WebSocketState.Open)
            {
                await socket.SendAsync(Encoding.UTF8.GetBytes(payload.ToJsonString()), WebSocketMessageType.Text, true, _stopping.Token);
            }
        }
        catch (WebSocketException)
        {
        }
        finally
        {
            _sending.Release();
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        if (path.TrimEnd('/') == "/gateway" && context.WebSockets.IsWebSocketRequest)
        {
            await GatewayAsync(context);
            return;
        }

        if (!path.StartsWith("/api/v10/", StringComparison.Ordinal))
        {
            context.Response.StatusCode = 404;
            return;
        }

        if (context.Request.Headers.Authorization.ToString() != "Bot " + BotToken)
        {
            context.Response.StatusCode = 401;
            await Answer(context, new JsonObject { ["message"] = "401: Unauthorized", ["code"] = 0 });
            return;
        }

        var route = path["/api/v10/".Length..].Split('/');
        var method = context.Request.Method;
        switch (route)
        {
            case ["gateway", "bot"]:
                var ws = ApiUrl.GetLeftPart(UriPartial.Authority).Replace("http://", "ws://", StringComparison.Ordinal) + "/gateway";
                await Answer(context, new JsonObject { ["url"] = ws, ["shards"] = 1 });
                return;
            case ["users", "@me"]:
                await Answer(context, new JsonObject { ["id"] = BotUserId, ["username"] = "conclave", ["bot"] = true });
                return;
            case ["users", "@me", "channels"]:
                var recipient = (await JsonBody(context))["recipient_id"]!.GetValue<string>();
                await Answer(context, new JsonObject { ["id"] = "DM" + recipient, ["type"] = 1 });
                return;
            case ["channels", var channel, "messages"] when method == "POST":
                await Answer(context, await CreateMessageAsync(context, channel));
                return;
            case ["channels", var channel, "messages", var id] when method == "PATCH":
                _editsAt.Enqueue(System.Diagnostics.Stopwatch.GetTimestamp());
                var edit = await JsonBody(context);
                if (_rateLimits.TryDequeue(out var retryAfter))
                {
                    context.Response.StatusCode = 429;
                    context.Response.Headers["Retry-After"] = retryAfter.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
                    context.Response.Headers["X-RateLimit-Scope"] = "user";
                    await Answer(context, new JsonObject { ["message"] = "You are being rate limited.", ["retry_after"] = retryAfter.TotalSeconds, ["global"] = false });
                    return;
                }

                if (!_messages.TryGetValue(id, out var message) || message.Channel != channel)
                {
                    context.Response.StatusCode = 404;
                    await Answer(context, new JsonObject { ["message"] = "Unknown Message", ["code"] = 10008 });
                    return;
                }

                message.Edit(edit["content"]?.GetValue<string>() ?? message.Content, edit["components"]?.DeepClone());
                await Answer(context, new JsonObject { ["id"] = id, ["channel_id"] = channel, ["content"] = message.Content });
                return;
            case ["channels", var channel, "messages", var id, "threads"] when method == "POST":
                var thread = NextId();
                _threadParents[id] = thread;
                await Answer(context, new JsonObject { ["id"] = thread, ["parent_id"] = channel, ["type"] = 11 });
                return;
            case ["interactions", var id, _, "callback"] when method == "POST":
                _interactionCallbacks.Enqueue(id);
                context.Response.StatusCode = 204;
                return;
            default:
                context.Response.StatusCode = 404;
                await Answer(context, new JsonObject { ["message"] = "404: Not Found", ["code"] = 0 });
                return;
        }
    }

    private async Task<JsonObject> CreateMessageAsync(HttpContext context, string channel)
    {
        JsonNode? body;
        if (context.Request.HasFormContentType)
        {
            var form = await context.Request.ReadFormAsync();
            body = JsonNode.Parse(form["payload_json"].ToString());
            foreach (var file in form.Files)
            {
                using var bytes = new MemoryStream();
                await file.CopyToAsync(bytes);
                _attachments.Enqueue((channel, file.FileName, bytes.ToArray()));
            }
        }
        else
        {
            body = await JsonBody(context);
        }

        var id = NextId();
        _messages[id] = new DiscordMessage(channel, id, body?["content"]?.GetValue<string>() ?? "", body?["components"]?.DeepClone());
        return new JsonObject { ["id"] = id, ["channel_id"] = channel, ["content"] = body?["content"]?.DeepClone() };
    }

    private static async Task<JsonObject> JsonBody(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        return JsonNode.Parse(await reader.ReadToEndAsync())!.AsObject();
    }

    private static Task Answer(HttpContext context, JsonObject answer)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(answer.ToJsonString());
    }

    private async Task GatewayAsync(HttpContext context)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        await SendAsync(socket, new JsonObject { ["op"] = 10, ["d"] = new JsonObject { ["heartbeat_interval"] = 41250 } });
        var buffer = new byte[64 * 1024];
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                using var message = new MemoryStream();
                WebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer, _stopping.Token);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                        return;
                    }

                    message.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage);

                var payload = JsonNode.Parse(message.ToArray())!;
                var d = payload["d"];
                var token = d is JsonObject data ? data["token"]?.GetValue<string>() : null;
                var session = d is JsonObject resume ? resume["session_id"]?.GetValue<string>() : null;
                switch (payload["op"]?.GetValue<int>())
                {
                    case 1:
                        await SendAsync(socket, new JsonObject { ["op"] = 11 });
                        break;
                    case 2 when token == BotToken:
                        _sessionId = "session-" + NextId();
                        lock (_lock)
                        {
                            _socket = socket;
                        }

                        await DispatchAsync("READY", new JsonObject
                        {
                            ["v"] = 10,
                            ["session_id"] = _sessionId,
                            ["resume_gateway_url"] = ApiUrl.GetLeftPart(UriPartial.Authority).Replace("http://", "ws://", StringComparison.Ordinal) + "/gateway",
                            ["user"] = new JsonObject { ["id"] = BotUserId, ["bot"] = true },
                            ["guilds"] = new JsonArray(),
                        });
                        Interlocked.Increment(ref _identified);
                        break;
                    case 6 when token == BotToken && session == _sessionId:
                        var after = d!["seq"]?.GetValue<long>() ?? 0;
                        List<JsonObject> missed;
                        lock (_lock)
                        {
                            missed = _dispatched.Where(p => p["s"]!.GetValue<long>() > after).ToList();
                            _socket = socket;
                        }

                        foreach (var replay in missed)
                        {
                            await SendAsync(socket, replay);
                        }

                        await DispatchAsync("RESUMED", []);
                        Interlocked.Increment(ref _resumed);
                        break;
                    case 2 or 6:
                        await socket.CloseOutputAsync((WebSocketCloseStatus)4004, "Authentication failed.", CancellationToken.None);
                        return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
        }
        finally
        {
            lock (_lock)
            {
                if (_socket == socket)
                {
                    _socket = null;
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(deadline.Token);
        await _app.DisposeAsync();
        _stopping.Dispose();
    }
}

/// <summary>A message the bot created, with its latest content and components and every content it had.</summary>
public sealed class DiscordMessage(string channel, string id, string content, JsonNode? components)
{
    private readonly Lock _lock = new();
    private readonly List<string> _versions = [content];
    private JsonNode? _components = components;

    public string Channel { get; } = channel;

    public string Id { get; } = id;

    public string Content
    {
        get
        {
            lock (_lock)
            {
                return _versions[^1];
            }
        }
    }

    public IReadOnlyList<string> Versions
    {
        get
        {
            lock (_lock)
            {
                return _versions.ToArray();
            }
        }
    }

    public JsonNode? Components
    {
        get
        {
            lock (_lock)
            {
                return _components?.DeepClone();
            }
        }
    }

    internal void Edit(string content, JsonNode? components)
    {
        lock (_lock)
        {
            _versions.Add(content);
            _components = components;
        }
    }
}
