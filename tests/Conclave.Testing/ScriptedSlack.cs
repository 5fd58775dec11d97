using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conclave.Testing;

/// <summary>
/// A Slack stand-in on loopback speaking the real wire protocol: the Web API methods the bridge calls
/// (Bearer-token checked, <c>{"ok":...}</c> answers, 429 with Retry-After when a test asks), Socket Mode
/// (apps.connections.open, a WebSocket that says hello, events_api and interactive envelopes that wait for
/// their ack, disconnect), the external file upload flow, and signed Events API requests to the Host.
/// </summary>
public sealed class ScriptedSlack : IAsyncDisposable
{
    public const string BotUserId = "UCONCLAVEBOT";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<SlackCall> _calls = new();
    private readonly ConcurrentDictionary<string, SlackPost> _posts = new();
    private readonly ConcurrentQueue<SlackEphemeral> _ephemerals = new();
    private readonly ConcurrentQueue<SlackUpload> _uploads = new();
    private readonly ConcurrentDictionary<string, byte[]> _uploadedBytes = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _acks = new();
    private readonly ConcurrentQueue<TimeSpan> _rateLimits = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _socketLock = new();
    private readonly SemaphoreSlim _sending = new(1, 1);
    private WebSocket? _socket;
    private TaskCompletionSource<WebSocket> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _clock = 1_700_000_000_000_000;
    private int _envelopes;
    private int _connections;

    private ScriptedSlack(WebApplication app, string botToken, string appToken)
    {
        _app = app;
        BotToken = botToken;
        AppToken = appToken;
        _app.UseWebSockets();
        _app.Run(HandleAsync);
    }

    public string BotToken { get; }

    public string AppToken { get; }

    /// <summary>The Web API base, e.g. <c>http://127.0.0.1:PORT/api/</c> (the Host's Conclave:Chat:SlackApiUrl).</summary>
    public Uri ApiUrl { get; private set; } = null!;

    /// <summary>Every Web API call so far, in arrival order.</summary>
    public IReadOnlyList<SlackCall> Calls => _calls.ToArray();

    /// <summary>The bot's messages by ts, each with its edits.</summary>
    public IReadOnlyList<SlackPost> Posts => _posts.Values.OrderBy(p => p.Ts, StringComparer.Ordinal).ToList();

    public IReadOnlyList<SlackEphemeral> Ephemerals => _ephemerals.ToArray();

    public IReadOnlyList<SlackUpload> Uploads => _uploads.ToArray();

    /// <summary>Socket Mode connections opened so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    public static async Task<ScriptedSlack> StartAsync(string? botToken = null, string? appToken = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var slack = new ScriptedSlack(
            builder.Build(),
            botToken ?? "xoxb-" + RandomPart(),
            appToken ?? "xapp-1-" + RandomPart());
        await slack._app.StartAsync();
        slack.ApiUrl = new Uri(slack._app.Urls.Single().TrimEnd('/') + "/api/");
        return slack;
    }

    private static string RandomPart() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>The next <c>chat.update</c> is answered 429 with this Retry-After (whole seconds, as Slack sends).</summary>
    public void RateLimitNextUpdate(TimeSpan retryAfter) => _rateLimits.Enqueue(retryAfter);

    /// <summary>The posts in a thread, oldest first.</summary>
    public IReadOnlyList<SlackPost> Thread(string channel, string threadTs) =>
        Posts.Where(p => p.Channel == channel && p.ThreadTs == threadTs).ToList();

    /// <summary>Waits for the bot's Socket Mode connection number <paramref name="count"/> (1-based) to say hello.</summary>
    public async Task WaitForConnectionAsync(int count, TimeSpan timeout)
    {
        await Eventually.Until(() => Connections >= count, timeout, $"Socket Mode connection {count} said hello");
    }

    /// <summary>A new top-level mention of the bot in <paramref name="channel"/>; its ts starts a thread.</summary>
    public JsonObject Mention(string channel, string user, string text, string? threadTs = null) =>
        EventCallback(new JsonObject
        {
            ["type"] = "app_mention",
            ["user"] = user,
            ["text"] = $"<@{BotUserId}> {text}",
            ["channel"] = channel,
            ["ts"] = NextTs(),
            ["thread_ts"] = threadTs,
        });

    /// <summary>A plain message in a thread (no mention), as message.channels delivers it.</summary>
    public JsonObject ThreadMessage(string channel, string user, string text, string threadTs) =>
        EventCallback(new JsonObject
        {
            ["type"] = "message",
            ["channel_type"] = "channel",
            ["user"] = user,
            ["text"] = text,
            ["channel"] = channel,
            ["ts"] = NextTs(),
            ["thread_ts"] = threadTs,
        });

    /// <summary>The ts of the thread an event starts or continues.</summary>
    public static string ThreadOf(JsonObject payload) =>
        payload["event"]!["thread_ts"]?.GetValue<string>() ?? payload["event"]!["ts"]!.GetValue<string>();

    /// <summary>Sends an events_api envelope over Socket Mode and waits for the bot's ack of it.</summary>
    public Task SendEventAsync(JsonObject payload, TimeSpan timeout, int retryAttempt = 0) =>
        SendEnvelopeAsync("events_api", payload, timeout, retryAttempt);

    /// <summary>A click on the Stop button of a bot message (block_actions over Socket Mode), acked.</summary>
    public Task ClickStopAsync(SlackPost post, string user, TimeSpan timeout)
    {
        var button = post.Blocks?.AsArray()
            .SelectMany(b => b?["elements"]?.AsArray() ?? [])
            .FirstOrDefault(e => e?["action_id"]?.GetValue<string>() == "conclave_stop")
            ?? throw new InvalidOperationException($"Message {post.Ts} has no Stop button.");
        var payload = new JsonObject
        {
            ["type"] = "block_actions",
            ["user"] = new JsonObject { ["id"] = user },
            ["channel"] = new JsonObject { ["id"] = post.Channel },
            ["message"] = new JsonObject { ["ts"] = post.Ts },
            ["actions"] = new JsonArray(new JsonObject
            {
                ["type"] = "button",
                ["action_id"] = "conclave_stop",
                ["value"] = button["value"]!.GetValue<string>(),
            }),
        };
        return SendEnvelopeAsync("interactive", payload, timeout, 0);
    }

    /// <summary>Asks the bot to reconnect, as Slack does every few hours (type <c>disconnect</c>).</summary>
    public async Task SendDisconnectAsync()
    {
        var socket = CurrentSocket();
        await SendAsync(socket, new JsonObject { ["type"] = "disconnect", ["reason"] = "refresh_requested" });
    }

    /// <summary>
    /// Posts an Events API request to the Host as Slack does: the body signed (v0, HMAC-SHA256) with
    /// <paramref name="signingSecret"/> at <paramref name="timestamp"/> (now by default); a retry carries X-Slack-Retry-Num.
    /// </summary>
    public static async Task<HttpResponseMessage> PostSignedAsync(
        HttpClient host, string path, string body, string signingSecret, DateTimeOffset? timestamp = null, int? retryNum = null, string contentType = "application/json")
    {
        var ts = (timestamp ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(signingSecret), Encoding.UTF8.GetBytes($"v0:{ts}:{body}"));
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, contentType) };
        request.Headers.Add("X-Slack-Request-Timestamp", ts);
        request.Headers.Add("X-Slack-Signature", "v0=" + Convert.ToHexStringLower(mac));
        if (retryNum is { } retry)
        {
            request.Headers.Add("X-Slack-Retry-Num", retry.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add("X-Slack-Retry-Reason", "http_timeout");
        }

        return await host.SendAsync(request);
    }

    private async Task SendEnvelopeAsync(string type, JsonObject payload, TimeSpan timeout, int retryAttempt)
    {
        Task<WebSocket> connected;
        lock (_socketLock)
        {
            connected = _connected.Task;
        }

        var socket = await connected.WaitAsync(timeout);
        var envelopeId = "env-" + Interlocked.Increment(ref _envelopes).ToString(CultureInfo.InvariantCulture);
        var acked = _acks.GetOrAdd(envelopeId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        await SendAsync(socket, new JsonObject
        {
            ["envelope_id"] = envelopeId,
            ["type"] = type,
            ["payload"] = payload.DeepClone(),
            ["accepts_response_payload"] = false,
            ["retry_attempt"] = retryAttempt,
            ["retry_reason"] = retryAttempt > 0 ? "timeout" : "",
        });
        await acked.Task.WaitAsync(timeout);
    }

    private JsonObject EventCallback(JsonObject e)
    {
        if (e["thread_ts"] is null)
        {
            e.Remove("thread_ts");
        }

        return new JsonObject
        {
            ["token"] = "verification-token-unused",
            ["team_id"] = "T0001",
            ["api_app_id"] = "A0001",
            ["type"] = "event_callback",
            ["event_id"] = "Ev" + RandomPart()[..10].ToUpperInvariant(),
            ["event_time"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["event"] = e,
        };
    }

    private string NextTs()
    {
        var micros = Interlocked.Increment(ref _clock);
        return (micros / 1_000_000).ToString(CultureInfo.InvariantCulture) + "." + (micros % 1_000_000).ToString("D6", CultureInfo.InvariantCulture);
    }

    private WebSocket CurrentSocket()
    {
        lock (_socketLock)
        {
            return _socket ?? throw new InvalidOperationException("The bot has no Socket Mode connection.");
        }
    }

    private async Task SendAsync(WebSocket socket, JsonObject message)
    {
        await _sending.WaitAsync();
        try
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, _stopping.Token);
        }
        finally
        {
            _sending.Release();
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        if (path == "/socket" && context.WebSockets.IsWebSocketRequest)
        {
            await SocketAsync(context);
            return;
        }

        if (path.StartsWith("/upload/", StringComparison.Ordinal))
        {
            using var bytes = new MemoryStream();
            await context.Request.Body.CopyToAsync(bytes);
            _uploadedBytes[path["/upload/".Length..]] = bytes.ToArray();
            context.Response.StatusCode = 200;
            await context.Response.WriteAsync("OK - " + bytes.Length);
            return;
        }

        if (!path.StartsWith("/api/", StringComparison.Ordinal))
        {
            context.Response.StatusCode = 404;
            return;
        }

        var method = path["/api/".Length..];
        var args = await ReadArgumentsAsync(context.Request);
        var token = context.Request.Headers.Authorization.ToString().Replace("Bearer ", "", StringComparison.Ordinal);
        var call = new SlackCall(method, args, Stopwatch.GetTimestamp());
        _calls.Enqueue(call);

        var expected = method == "apps.connections.open" ? AppToken : BotToken;
        if (token != expected)
        {
            await Answer(context, new JsonObject { ["ok"] = false, ["error"] = method == "apps.connections.open" ? "not_allowed_token_type" : "invalid_auth" });
            return;
        }

        if (method == "chat.update" && _rateLimits.TryDequeue(out var retryAfter))
        {
            call.RateLimited = true;
            context.Response.StatusCode = 429;
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            await context.Response.WriteAsync("""{"ok":false,"error":"ratelimited"}""");
            return;
        }

        await Answer(context, Respond(method, args, call));
    }

    private JsonObject Respond(string method, JsonObject args, SlackCall call)
    {
        string? S(string name) => args[name]?.GetValue<string>();
        switch (method)
        {
            case "auth.test":
                return new JsonObject { ["ok"] = true, ["user_id"] = BotUserId, ["team_id"] = "T0001", ["bot_id"] = "B0001" };
            case "apps.connections.open":
                var url = ApiUrl.ToString().Replace("http://", "ws://", StringComparison.Ordinal).Replace("/api/", "/socket", StringComparison.Ordinal);
                return new JsonObject { ["ok"] = true, ["url"] = url + "?ticket=" + RandomPart() + "&app_id=A0001" };
            case "chat.postMessage":
                if (S("channel") is not { } channel || S("text") is not { } text)
                {
                    return Error("invalid_arguments");
                }

                var ts = NextTs();
                _posts[ts] = new SlackPost(channel, S("thread_ts") ?? ts, ts, text, args["blocks"]?.DeepClone(), call.At);
                return new JsonObject { ["ok"] = true, ["channel"] = channel, ["ts"] = ts };
            case "chat.update":
                if (S("ts") is not { } updated || !_posts.TryGetValue(updated, out var post))
                {
                    return Error("message_not_found");
                }

                post.Edit(S("text") ?? "", args["blocks"]?.DeepClone(), call.At);
                return new JsonObject { ["ok"] = true, ["channel"] = post.Channel, ["ts"] = updated };
            case "chat.postEphemeral":
                _ephemerals.Enqueue(new SlackEphemeral(S("channel") ?? "", S("user") ?? "", S("thread_ts"), S("text") ?? ""));
                return new JsonObject { ["ok"] = true, ["message_ts"] = NextTs() };
            case "files.getUploadURLExternal":
                var fileId = "F" + RandomPart()[..10].ToUpperInvariant();
                return new JsonObject
                {
                    ["ok"] = true,
                    ["upload_url"] = ApiUrl.ToString().Replace("/api/", "/upload/", StringComparison.Ordinal) + fileId,
                    ["file_id"] = fileId,
                };
            case "files.completeUploadExternal":
                var files = JsonNode.Parse(S("files") ?? "[]")!.AsArray();
                foreach (var file in files)
                {
                    var id = file!["id"]!.GetValue<string>();
                    _uploads.Enqueue(new SlackUpload(
                        S("channel_id") ?? "", S("thread_ts"), file["title"]?.GetValue<string>() ?? "", _uploadedBytes.GetValueOrDefault(id) ?? []));
                }

                return new JsonObject { ["ok"] = true, ["files"] = files.DeepClone() };
            default:
                return Error("unknown_method");
        }
    }

    private static JsonObject Error(string error) => new() { ["ok"] = false, ["error"] = error };

    private static async Task<JsonObject> ReadArgumentsAsync(HttpRequest request)
    {
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync();
            var args = new JsonObject();
            foreach (var (key, value) in form)
            {
                args[key] = value.ToString();
            }

            return args;
        }

        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync();
        return body.Length == 0 ? new JsonObject() : JsonNode.Parse(body)!.AsObject();
    }

    private static Task Answer(HttpContext context, JsonObject answer)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(answer.ToJsonString());
    }

    private async Task SocketAsync(HttpContext context)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        lock (_socketLock)
        {
            _socket = socket;
        }

        await SendAsync(socket, new JsonObject
        {
            ["type"] = "hello",
            ["num_connections"] = 1,
            ["connection_info"] = new JsonObject { ["app_id"] = "A0001" },
        });
        lock (_socketLock)
        {
            if (_connected.Task.IsCompleted)
            {
                _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            _connected.TrySetResult(socket);
        }

        Interlocked.Increment(ref _connections);
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

                if (JsonNode.Parse(message.ToArray())?["envelope_id"]?.GetValue<string>() is { } envelopeId)
                {
                    _acks.GetOrAdd(envelopeId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
        }
        finally
        {
            lock (_socketLock)
            {
                if (_socket == socket)
                {
                    _socket = null;
                    _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
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

/// <summary>One Web API call: the method, its arguments (JSON or form), when it arrived (Stopwatch ticks).</summary>
public sealed record SlackCall(string Method, JsonObject Arguments, long At)
{
    public bool RateLimited { get; set; }
}

/// <summary>A message the bot posted, with every edit (text, when) in order.</summary>
public sealed class SlackPost(string channel, string threadTs, string ts, string text, JsonNode? blocks, long at)
{
    private readonly Lock _lock = new();
    private readonly List<(string Text, long At)> _versions = [(text, at)];
    private JsonNode? _blocks = blocks;

    public string Channel { get; } = channel;

    public string ThreadTs { get; } = threadTs;

    public string Ts { get; } = ts;

    public string Text
    {
        get
        {
            lock (_lock)
            {
                return _versions[^1].Text;
            }
        }
    }

    public JsonNode? Blocks
    {
        get
        {
            lock (_lock)
            {
                return _blocks?.DeepClone();
            }
        }
    }

    /// <summary>The posted text then each edit's, with Stopwatch timestamps.</summary>
    public IReadOnlyList<(string Text, long At)> Versions
    {
        get
        {
            lock (_lock)
            {
                return _versions.ToArray();
            }
        }
    }

    internal void Edit(string text, JsonNode? blocks, long at)
    {
        lock (_lock)
        {
            _versions.Add((text, at));
            _blocks = blocks;
        }
    }
}

public sealed record SlackEphemeral(string Channel, string User, string? ThreadTs, string Text);

public sealed record SlackUpload(string Channel, string? ThreadTs, string Title, byte[] Content);
