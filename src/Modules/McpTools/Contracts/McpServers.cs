using System.Text.Json;

namespace Conclave.McpTools.Contracts;

/// <summary>How a remote MCP server is spoken to.</summary>
public enum McpTransport
{
    /// <summary>Streamable HTTP, falling back to HTTP with SSE (the SDK's auto-detection).</summary>
    Auto,
    StreamableHttp,
    Sse,

    /// <summary>A local program speaking MCP over stdin/stdout, run in one session's sandbox (never on the Host).</summary>
    Stdio,
}

/// <summary>A connection's state as the servers page shows it.</summary>
public enum McpConnectionState
{
    /// <summary>Not connected yet: nobody needed it since the Host started.</summary>
    Idle,
    Connecting,
    Connected,
    /// <summary>The last attempt failed; <see cref="McpServerView.LastError"/> says why. Retried with backoff, and at once by the next call.</summary>
    Failed,
}

/// <summary>What a user asks to register.</summary>
/// <param name="Name">The namespace of its tools (<c>name__tool</c>): 1-24 lowercase letters, digits or '-', starting with a letter.</param>
/// <param name="Headers">Sent with every request (e.g. Authorization); kept encrypted and never shown again, only their names.</param>
/// <param name="TimeoutSeconds">Each call's limit; null means <see cref="McpToolsOptions.DefaultCallTimeout"/>.</param>
/// <param name="Global">An admin's server, offered to everyone (admins only).</param>
/// <param name="ReadOnly">Its tools change nothing, so they default to <c>auto</c> instead of <c>ask</c> (admins only).</param>
public sealed record McpServerRequest(
    string Name,
    string Url,
    McpTransport Transport = McpTransport.Auto,
    IReadOnlyDictionary<string, string>? Headers = null,
    int? TimeoutSeconds = null,
    bool Global = false,
    bool ReadOnly = false);

/// <summary>A tool of a server, under the name agents call it by.</summary>
/// <param name="Name">The namespaced name agents call: <c>server__tool</c>.</param>
/// <param name="InputSchema">The server's JSON schema of the arguments (an object schema).</param>
public sealed record McpToolView(string Name, string Server, string Tool, string Description, JsonElement InputSchema, bool ReadOnly);

/// <param name="HeaderNames">The names of the stored headers; their values are never returned.</param>
/// <param name="SessionId">For a local (stdio) server: the session whose sandbox runs it.</param>
/// <param name="Command">For a local (stdio) server: the program and its arguments.</param>
public sealed record McpServerView(
    Guid Id,
    string Name,
    string Url,
    McpTransport Transport,
    bool Global,
    bool ReadOnly,
    int TimeoutSeconds,
    IReadOnlyList<string> HeaderNames,
    bool Mine,
    McpConnectionState State,
    string? LastError,
    DateTimeOffset? ConnectedAt,
    IReadOnlyList<McpToolView> Tools,
    Guid? SessionId = null,
    IReadOnlyList<string>? Command = null);

/// <summary>A local MCP server for one session: a program in the session's sandbox, e.g. <c>["python3", "tools/server.py"]</c>.</summary>
/// <param name="Name">As for a remote server: it prefixes the tools.</param>
/// <param name="Command">The program and its arguments (no shell), run in /workspace of the session's sandbox.</param>
public sealed record McpSessionServerRequest(string Name, IReadOnlyList<string> Command, int? TimeoutSeconds = null);

/// <summary>What a call gave back, as text for the agent.</summary>
public sealed record McpToolResult(string Text, bool Failed);

/// <summary>MCP servers: registered by admins for everyone, or by users for themselves.</summary>
public interface IMcpServers
{
    /// <summary>The servers <paramref name="ownerId"/> sees: everyone's and their own.</summary>
    Task<IReadOnlyList<McpServerView>> ListAsync(string ownerId, CancellationToken ct = default);

    /// <exception cref="McpValidationException">A field is not valid (named in the exception).</exception>
    Task<McpServerView> RegisterAsync(string ownerId, bool isAdmin, McpServerRequest request, CancellationToken ct = default);

    /// <summary>Removes a server; a global one only by an admin.</summary>
    /// <exception cref="McpNotFoundException">No such server visible to the caller.</exception>
    Task RemoveAsync(string ownerId, bool isAdmin, Guid serverId, CancellationToken ct = default);

    /// <summary>The local (stdio) servers of a session, each run in the session's sandbox.</summary>
    /// <exception cref="McpNotFoundException">The session is not the caller's.</exception>
    Task<IReadOnlyList<McpServerView>> ListForSessionAsync(string ownerId, Guid sessionId, CancellationToken ct = default);

    /// <summary>Registers a local server for a session and starts it in the session's sandbox, so its tools are known at once.</summary>
    /// <exception cref="McpNotFoundException">The session is not the caller's.</exception>
    /// <exception cref="McpValidationException">A field is not valid.</exception>
    Task<McpServerView> RegisterForSessionAsync(string ownerId, Guid sessionId, McpSessionServerRequest request, CancellationToken ct = default);

    /// <summary>Connects again now (after fixing the server), and lists its tools afresh.</summary>
    Task<McpServerView> ReconnectAsync(string ownerId, Guid serverId, CancellationToken ct = default);
}

/// <summary>MCP tools as agents use them.</summary>
public interface IMcpTools
{
    /// <summary>Every tool <paramref name="ownerId"/> can give an agent, from connected servers (connecting those not yet connected).</summary>
    Task<IReadOnlyList<McpToolView>> ListToolsAsync(string ownerId, CancellationToken ct = default);

    /// <summary>
    /// Calls <paramref name="name"/> (<c>server__tool</c>) with JSON object arguments. A server that cannot be
    /// reached, a timeout or a tool's own error come back as a failed result saying so; cancellation throws.
    /// </summary>
    Task<McpToolResult> CallAsync(string ownerId, string name, JsonElement arguments, CancellationToken ct = default);
}

public sealed class McpNotFoundException(string message) : Exception(message);

public sealed class McpValidationException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}

/// <summary>A user may not do this (e.g. register a global server without being an admin).</summary>
public sealed class McpForbiddenException(string message) : Exception(message);
