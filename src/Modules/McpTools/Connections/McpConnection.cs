using System.Text;
using System.Text.Json;
using Conclave.McpTools.Contracts;
using Conclave.Sandbox.Contracts;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Microsoft.Extensions.Logging;

namespace Conclave.McpTools.Connections;

/// <summary>What a connection needs to know of its server; header values are decrypted only when connecting.</summary>
/// <param name="Url">A remote server's address; null for a local one.</param>
/// <param name="SessionId">A local server's session, whose sandbox runs <paramref name="Command"/>.</param>
internal sealed record McpServerSettings(
    Guid Id,
    string Name,
    Uri? Url,
    McpTransport Transport,
    bool ReadOnly,
    TimeSpan CallTimeout,
    Func<IDictionary<string, string>> Headers,
    Guid? SessionId = null,
    IReadOnlyList<string>? Command = null);

/// <summary>
/// One server's connection, kept up: it connects when first needed, lists the tools (again on the server's
/// list-changed notification and at each health check), answers a call that finds the connection broken
/// by connecting once more and retrying, and holds each call to the server's timeout. State and the last
/// error are kept for the servers page. It never throws for the server's failures, only for cancellation.
/// </summary>
internal sealed class McpConnection(
    McpServerSettings settings, HttpClient http, ISandboxProcesses processes, McpToolsOptions limits, TimeProvider clock, ILoggerFactory loggers)
    : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ILogger _logger = loggers.CreateLogger<McpConnection>();
    private McpClient? _client;
    private IAsyncDisposable? _listChanged;
    private ISandboxProcess? _process;
    private int _failures;

    public McpServerSettings Settings { get; } = settings;

    public McpConnectionState State { get; private set; } = McpConnectionState.Idle;

    public string? LastError { get; private set; }

    public DateTimeOffset? ConnectedAt { get; private set; }

    /// <summary>When the background loop next tries a failed server, or checks a connected one.</summary>
    public DateTimeOffset NextCheckAt { get; private set; }

    public IReadOnlyList<McpToolView> Tools { get; private set; } = [];

    /// <summary>Connects unless connected; a failure is recorded in <see cref="State"/> and <see cref="LastError"/>.</summary>
    public async Task EnsureConnectedAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref _client) is not null)
        {
            return;
        }

        await _gate.WaitAsync(ct);
        try
        {
            if (_client is null)
            {
                await ConnectAsync(ct);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Drops the connection and connects again now.</summary>
    public async Task ReconnectAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            await CloseAsync();
            await ConnectAsync(ct);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<McpToolResult> CallAsync(string tool, JsonElement arguments, CancellationToken ct)
    {
        var qualified = Settings.Name + "__" + tool;
        var values = arguments.ValueKind == JsonValueKind.Object
            ? arguments.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone())
            : [];
        for (var attempt = 0; ; attempt++)
        {
            await EnsureConnectedAsync(ct);
            var client = Volatile.Read(ref _client);
            if (client is null)
            {
                return new McpToolResult($"error: the MCP server '{Settings.Name}' cannot be reached ({LastError}). Tell the user; it may be down.", true);
            }

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(Settings.CallTimeout);
            try
            {
                var result = await client.CallToolAsync(tool, values, cancellationToken: deadline.Token);
                return ResultOf(result);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                _logger.LogWarning("MCP call {Tool} timed out after {Timeout}", qualified, Settings.CallTimeout);
                return new McpToolResult($"error: {qualified} did not answer within its time limit of {Settings.CallTimeout.TotalSeconds:0.#} s; the call was abandoned.", true);
            }
            catch (McpProtocolException e)
            {
                // The server answered, with a JSON-RPC error (unknown tool, bad arguments): the agent's to fix.
                return new McpToolResult($"error: {qualified} was refused by its server: {e.Message}", true);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                // The connection broke (the server restarted, its session expired, the network went): connect once more.
                await DropAsync(client, e);
                if (attempt > 0)
                {
                    return new McpToolResult($"error: the MCP server '{Settings.Name}' cannot be reached ({LastError}). Tell the user; it may be down.", true);
                }
            }
        }
    }

    /// <summary>The background check: ping and list again when connected and due; reconnect a failed server when its backoff is over.</summary>
    public async Task CheckAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        // A local server lives and dies with its session's sandbox: pinging it would keep an idle sandbox from being reaped,
        // and its next run starts it again.
        if (Settings.SessionId is not null || now < NextCheckAt || State is McpConnectionState.Idle or McpConnectionState.Connecting)
        {
            return;
        }

        if (Volatile.Read(ref _client) is { } client)
        {
            try
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
                deadline.CancelAfter(limits.ConnectTimeout);
                await client.PingAsync(cancellationToken: deadline.Token);
                await LoadToolsAsync(client, deadline.Token);
                NextCheckAt = clock.GetUtcNow() + limits.HealthInterval;
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                await DropAsync(client, e);
            }

            return;
        }

        await EnsureConnectedAsync(ct);
    }

    private async Task ConnectAsync(CancellationToken ct)
    {
        State = McpConnectionState.Connecting;
        McpClient? client = null;
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(limits.ConnectTimeout);
            IClientTransport transport;
            if (Settings.SessionId is { } sessionId && Settings.Command is { } command)
            {
                // A local server: its program runs in the session's sandbox, and the SDK speaks to its stdin and stdout there.
                _process = await processes.StartAsync(sessionId, command, deadline.Token);
                transport = new StreamClientTransport(_process.Input, _process.Output, loggers);
            }
            else
            {
                transport = new HttpClientTransport(
                new HttpClientTransportOptions
                {
                    Endpoint = Settings.Url!,
                    Name = Settings.Name,
                    TransportMode = Settings.Transport switch
                    {
                        McpTransport.StreamableHttp => HttpTransportMode.StreamableHttp,
                        McpTransport.Sse => HttpTransportMode.Sse,
                        _ => HttpTransportMode.AutoDetect,
                    },
                    AdditionalHeaders = Settings.Headers(),
                    ConnectionTimeout = limits.ConnectTimeout,
                },
                http,
                loggers,
                ownsHttpClient: false);
            }

            client = await McpClient.CreateAsync(
                transport,
                new McpClientOptions { ClientInfo = new Implementation { Name = "Conclave", Version = "1.0" } },
                loggers,
                deadline.Token);
            var connected = client;
            _listChanged = client.RegisterNotificationHandler(NotificationMethods.ToolListChangedNotification, (_, _) =>
            {
                _ = RefreshToolsAsync(connected);
                return ValueTask.CompletedTask;
            });
            await LoadToolsAsync(client, deadline.Token);
            Volatile.Write(ref _client, client);
            State = McpConnectionState.Connected;
            LastError = null;
            ConnectedAt = clock.GetUtcNow();
            NextCheckAt = clock.GetUtcNow() + limits.HealthInterval;
            _failures = 0;
            _logger.LogInformation("MCP server {Server} connected: {Count} tools", Settings.Name, Tools.Count);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            if (client is not null)
            {
                await client.DisposeAsync();
            }

            await StopProcessAsync();
            Failed(e);
        }
    }

    private async Task RefreshToolsAsync(McpClient client)
    {
        try
        {
            using var deadline = new CancellationTokenSource(limits.ConnectTimeout);
            await LoadToolsAsync(client, deadline.Token);
            _logger.LogInformation("MCP server {Server} changed its tools: {Count} now", Settings.Name, Tools.Count);
        }
        catch (Exception e)
        {
            _logger.LogWarning("MCP server {Server}: reading its changed tool list failed ({Error})", Settings.Name, e.Message);
        }
    }

    private async Task LoadToolsAsync(McpClient client, CancellationToken ct)
    {
        var listed = await client.ListToolsAsync(cancellationToken: ct);
        var tools = new List<McpToolView>();
        foreach (var tool in listed.Select(t => t.ProtocolTool))
        {
            var name = Settings.Name + "__" + tool.Name;
            if (!McpToolNames.IsValid(name))
            {
                _logger.LogWarning("MCP server {Server}: tool {Tool} is not offered (names are letters, digits, '_' and '-', at most 64 with the server's)", Settings.Name, McpToolNames.Printable(tool.Name));
                continue;
            }

            if (tools.Count == limits.MaxToolsPerServer)
            {
                _logger.LogWarning("MCP server {Server} offers more than {Max} tools; the rest are not offered", Settings.Name, limits.MaxToolsPerServer);
                break;
            }

            tools.Add(new McpToolView(name, Settings.Name, tool.Name, Bounded(tool.Description ?? "", 1024), tool.InputSchema.Clone(), Settings.ReadOnly));
        }

        Tools = tools;
    }

    private async Task DropAsync(McpClient client, Exception cause)
    {
        if (Interlocked.CompareExchange(ref _client, null, client) == client)
        {
            await DisposeClientAsync(client);
            Failed(cause);
        }
    }

    private void Failed(Exception cause)
    {
        _failures++;
        State = McpConnectionState.Failed;
        LastError = Describe(cause);
        var backoff = TimeSpan.FromTicks(Math.Min(limits.MaxBackoff.Ticks, limits.Backoff.Ticks << Math.Min(_failures - 1, 20)));
        NextCheckAt = clock.GetUtcNow() + backoff;
        _logger.LogWarning("MCP server {Server} is not reachable ({Error}); trying again in {Backoff}", Settings.Name, LastError, backoff);
    }

    /// <summary>What went wrong, in words: the innermost cause's message, without exception type names.</summary>
    private static string Describe(Exception e)
    {
        var inner = e;
        while (inner.InnerException is not null && inner is not Egress.EgressRefusedException)
        {
            inner = inner.InnerException;
        }

        return Bounded(inner.Message, 300);
    }

    private McpToolResult ResultOf(CallToolResult result)
    {
        var text = new StringBuilder();
        foreach (var block in result.Content)
        {
            if (text.Length > 0)
            {
                text.Append('\n');
            }

            text.Append(block switch
            {
                TextContentBlock t => t.Text,
                ImageContentBlock i => $"[an image, {i.MimeType}]",
                AudioContentBlock a => $"[audio, {a.MimeType}]",
                EmbeddedResourceBlock r => r.Resource is TextResourceContents t ? t.Text : $"[a resource: {r.Resource.Uri}]",
                ResourceLinkBlock l => $"[a resource: {l.Uri}]",
                _ => "[content]",
            });
        }

        if (text.Length == 0 && result.StructuredContent is { } structured)
        {
            text.Append(structured.ToString());
        }

        var body = text.Length == 0 ? "(no output)" : text.ToString();
        if (body.Length > limits.MaxResultChars)
        {
            body = body[..limits.MaxResultChars] + $"\n[output truncated: showing the first {limits.MaxResultChars} of {body.Length} characters]";
        }

        return result.IsError == true ? new McpToolResult("error: " + body, true) : new McpToolResult(body, false);
    }

    private static string Bounded(string text, int max) => text.Length <= max ? text : text[..max] + "…";

    private async Task CloseAsync()
    {
        if (Interlocked.Exchange(ref _client, null) is { } client)
        {
            await DisposeClientAsync(client);
        }
    }

    private async Task DisposeClientAsync(McpClient client)
    {
        if (Interlocked.Exchange(ref _listChanged, null) is { } handler)
        {
            await handler.DisposeAsync();
        }

        try
        {
            await client.DisposeAsync();
        }
        catch (Exception e)
        {
            _logger.LogDebug("MCP server {Server}: closing the old connection failed ({Error})", Settings.Name, e.Message);
        }

        await StopProcessAsync();
    }

    /// <summary>A local server's program ends with its stdin.</summary>
    private async Task StopProcessAsync()
    {
        if (Interlocked.Exchange(ref _process, null) is { } process)
        {
            await process.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        _gate.Dispose();
    }
}
