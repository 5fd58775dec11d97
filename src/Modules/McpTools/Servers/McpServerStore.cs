using System.Text.RegularExpressions;
using Conclave.Egress;
using Conclave.Identity.Contracts;
using Conclave.McpTools.Connections;
using Conclave.McpTools.Contracts;
using Conclave.Sessions.Contracts;
using Marten;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.McpTools.Servers;

/// <summary>
/// Registered servers as Marten documents, and the tools of those a user sees. Header values go in
/// encrypted with the key ring and come out only into a connection's requests.
/// </summary>
internal sealed partial class McpServerStore(
    IDocumentStore store,
    IKeyRing keyRing,
    EgressPolicy egress,
    McpServerCatalog catalog,
    McpConnections connections,
    ISessions sessions,
    IOptionsMonitor<McpToolsOptions> options,
    TimeProvider clock,
    ILogger<McpServerStore> logger) : IMcpServers, IMcpTools
{
    public const string Purpose = "Conclave.McpTools.Headers";

    /// <summary>Two underscores part server from tool: <c>github__search_issues</c>.</summary>
    public const string Separator = "__";

    private const int MaxHeaders = 16;
    private const int MaxHeaderValue = 8192;
    private const int MaxUrl = 2048;
    private const int MaxCommandParts = 64;
    private const int MaxCommandChars = 8192;

    private readonly IDataProtector _protector = keyRing.ProtectorFor(Purpose);

    [GeneratedRegex("^[a-z][a-z0-9-]{0,23}$")]
    private static partial Regex ServerName();

    [GeneratedRegex("^[A-Za-z0-9-]{1,64}$")]
    private static partial Regex HeaderName();

    public async Task<IReadOnlyList<McpServerView>> ListAsync(string ownerId, CancellationToken ct = default)
    {
        var servers = await VisibleAsync(ownerId, ct);
        return [.. servers.Where(s => s.SessionId is null).Select(s => ViewOf(s, ownerId))];
    }

    public async Task<IReadOnlyList<McpServerView>> ListForSessionAsync(string ownerId, Guid sessionId, CancellationToken ct = default)
    {
        await RequireSessionAsync(ownerId, sessionId, ct);
        var servers = await VisibleAsync(ownerId, ct);
        return [.. servers.Where(s => s.SessionId == sessionId).Select(s => ViewOf(s, ownerId))];
    }

    public async Task<McpServerView> RegisterForSessionAsync(string ownerId, Guid sessionId, McpSessionServerRequest request, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        await RequireSessionAsync(ownerId, sessionId, ct);
        var name = ValidName(request.Name);
        var command = request.Command ?? [];
        if (command.Count is 0 or > MaxCommandParts || string.IsNullOrWhiteSpace(command[0])
            || command.Sum(c => c?.Length ?? 0) > MaxCommandChars || command.Any(c => c is null || c.Any(char.IsControl)))
        {
            throw new McpValidationException("command", $"The command is the program and its arguments, e.g. [\"python3\", \"tools/server.py\"]: 1-{MaxCommandParts} parts, {MaxCommandChars} characters in all, no control characters.");
        }

        var timeout = ValidTimeout(request.TimeoutSeconds);
        var stored = new StoredMcpServer
        {
            Id = Guid.NewGuid(),
            OwnerId = ownerId,
            Name = name,
            Url = "",
            Transport = McpTransport.Stdio,
            TimeoutSeconds = timeout,
            SessionId = sessionId,
            Command = [.. command],
            CreatedAt = clock.GetUtcNow(),
        };
        await StoreAsync(stored, ownerId, ct);
        logger.LogInformation("Local MCP server {Server} ({Id}) registered for session {SessionId}: {Program}", name, stored.Id, sessionId, command[0]);
        await connections.For(stored).EnsureConnectedAsync(ct);
        return ViewOf(stored, ownerId);
    }

    private async Task RequireSessionAsync(string ownerId, Guid sessionId, CancellationToken ct)
    {
        if (await sessions.FindAsync(ownerId, sessionId, ct) is null)
        {
            throw new McpNotFoundException("No such session.");
        }
    }

    public async Task<McpServerView> RegisterAsync(string ownerId, bool isAdmin, McpServerRequest request, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if ((request.Global || request.ReadOnly) && !isAdmin)
        {
            throw new McpForbiddenException("Only an admin can register a server for everyone or mark its tools read-only.");
        }

        var name = ValidName(request.Name);

        if (string.IsNullOrWhiteSpace(request.Url) || request.Url.Length > MaxUrl
            || !Uri.TryCreate(request.Url.Trim(), UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(url.UserInfo))
        {
            throw new McpValidationException("url", $"The URL must be an absolute http or https address without credentials, at most {MaxUrl} characters.");
        }

        if (egress.RefusalOf(url, []) is { } refusal)
        {
            throw new McpValidationException("url", refusal);
        }

        var timeout = ValidTimeout(request.TimeoutSeconds);

        var headers = request.Headers ?? new Dictionary<string, string>();
        if (headers.Count > MaxHeaders)
        {
            throw new McpValidationException("headers", $"At most {MaxHeaders} headers.");
        }

        foreach (var (header, value) in headers)
        {
            if (!HeaderName().IsMatch(header) || value is null || value.Length > MaxHeaderValue || value.Any(c => c is '\r' or '\n' or '\0'))
            {
                throw new McpValidationException("headers", $"Header '{Shorten(header)}' is not valid: names are letters, digits and '-'; values at most {MaxHeaderValue} characters on one line.");
            }
        }

        var owner = request.Global ? null : ownerId;
        var stored = new StoredMcpServer
        {
            Id = Guid.NewGuid(),
            OwnerId = owner,
            Name = name,
            Url = url.ToString(),
            Transport = request.Transport,
            ReadOnly = request.ReadOnly,
            TimeoutSeconds = timeout,
            ProtectedHeaders = headers.ToDictionary(h => h.Key, h => _protector.Protect(h.Value), StringComparer.OrdinalIgnoreCase),
            CreatedAt = clock.GetUtcNow(),
        };
        await StoreAsync(stored, ownerId, ct);
        logger.LogInformation("MCP server {Server} ({Id}) registered by {Owner} at {Url}", name, stored.Id, owner ?? "an admin for everyone", url.GetLeftPart(UriPartial.Path));

        // Connect now, so the answer shows whether it works and what it offers.
        await connections.For(stored).EnsureConnectedAsync(ct);
        return ViewOf(stored, ownerId);
    }

    /// <summary>Stores a new server once its name is free among those the caller sees and the caller is within the limit.</summary>
    private async Task StoreAsync(StoredMcpServer stored, string ownerId, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        var visible = await session.Query<StoredMcpServer>().Where(s => s.OwnerId == null || s.OwnerId == ownerId).ToListAsync(ct);
        if (visible.Any(s => s.Name == stored.Name && (s.SessionId is null || stored.SessionId is null || s.SessionId == stored.SessionId)))
        {
            throw new McpValidationException("name", $"A server named '{stored.Name}' is already offered to you; choose another name.");
        }

        var limit = options.CurrentValue.MaxServersPerUser;
        if (stored.OwnerId is not null && visible.Count(s => s.OwnerId == stored.OwnerId) >= limit)
        {
            throw new McpValidationException("name", $"You already have {limit} servers; remove one first.");
        }

        session.Store(stored);
        await session.SaveChangesAsync(ct);
        await catalog.RefreshAsync(ct);
    }

    private static string ValidName(string? requested)
    {
        var name = requested?.Trim() ?? "";
        return ServerName().IsMatch(name)
            ? name
            : throw new McpValidationException("name", "The name must be 1-24 lowercase letters, digits or '-', starting with a letter (it prefixes the tools: name__tool).");
    }

    private int ValidTimeout(int? requested)
    {
        var limits = options.CurrentValue;
        var timeout = requested ?? (int)limits.DefaultCallTimeout.TotalSeconds;
        return timeout >= 1 && timeout <= limits.MaxCallTimeout.TotalSeconds
            ? timeout
            : throw new McpValidationException("timeoutSeconds", $"The timeout must be 1-{(int)limits.MaxCallTimeout.TotalSeconds} seconds.");
    }

    public async Task RemoveAsync(string ownerId, bool isAdmin, Guid serverId, CancellationToken ct = default)
    {
        await using var session = store.LightweightSession();
        var stored = await session.LoadAsync<StoredMcpServer>(serverId, ct);
        if (stored is null || !stored.VisibleTo(ownerId))
        {
            throw new McpNotFoundException("No such MCP server.");
        }

        if (stored.OwnerId is null && !isAdmin)
        {
            throw new McpForbiddenException("Only an admin can remove a server offered to everyone.");
        }

        session.Delete(stored);
        await session.SaveChangesAsync(ct);
        await catalog.RefreshAsync(ct);
        await connections.RemoveAsync(serverId);
    }

    public async Task<McpServerView> ReconnectAsync(string ownerId, Guid serverId, CancellationToken ct = default)
    {
        await using var session = store.QuerySession();
        var stored = await session.LoadAsync<StoredMcpServer>(serverId, ct);
        if (stored is null || !stored.VisibleTo(ownerId))
        {
            throw new McpNotFoundException("No such MCP server.");
        }

        await connections.For(stored).ReconnectAsync(ct);
        return ViewOf(stored, ownerId);
    }

    public async Task<IReadOnlyList<McpToolView>> ListToolsAsync(string ownerId, CancellationToken ct = default)
    {
        var servers = await VisibleAsync(ownerId, ct);
        var tools = new List<McpToolView>();
        foreach (var server in servers.Where(s => s.SessionId is null))
        {
            var connection = connections.For(server);
            if (connection.State is McpConnectionState.Idle)
            {
                await connection.EnsureConnectedAsync(ct);
            }

            tools.AddRange(connection.Tools);
        }

        return tools;
    }

    public Task<McpToolResult> CallAsync(string ownerId, string name, System.Text.Json.JsonElement arguments, CancellationToken ct = default) =>
        CallAsync(ownerId, null, name, arguments, ct);

    /// <summary>As <see cref="CallAsync(string, string, System.Text.Json.JsonElement, CancellationToken)"/>, from a run of <paramref name="sessionId"/>: that session's local servers count too.</summary>
    public async Task<McpToolResult> CallAsync(string ownerId, Guid? sessionId, string name, System.Text.Json.JsonElement arguments, CancellationToken ct = default)
    {
        var split = name.IndexOf(Separator, StringComparison.Ordinal);
        var servers = split > 0 ? await VisibleAsync(ownerId, ct) : [];
        var server = servers.FirstOrDefault(s => s.Name == name[..split] && (s.SessionId is null || s.SessionId == sessionId));
        if (server is null)
        {
            return new McpToolResult($"error: there is no MCP tool named '{name}'.", true);
        }

        return await connections.For(server).CallAsync(name[(split + Separator.Length)..], arguments, ct);
    }

    private async Task<IReadOnlyList<StoredMcpServer>> VisibleAsync(string ownerId, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        return await session.Query<StoredMcpServer>()
            .Where(s => s.OwnerId == null || s.OwnerId == ownerId)
            .OrderBy(s => s.Name)
            .ToListAsync(ct);
    }

    private McpServerView ViewOf(StoredMcpServer server, string ownerId)
    {
        var connection = connections.For(server);
        return new McpServerView(server.Id, server.Name, server.Url, server.Transport, server.OwnerId is null, server.ReadOnly,
            server.TimeoutSeconds, [.. server.ProtectedHeaders.Keys.Order(StringComparer.OrdinalIgnoreCase)], server.OwnerId == ownerId,
            connection.State, connection.LastError, connection.ConnectedAt, connection.Tools, server.SessionId, server.Command);
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
