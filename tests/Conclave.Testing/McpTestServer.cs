using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Server;

namespace Conclave.Testing;

/// <summary>
/// A real MCP server (the official SDK's Streamable HTTP server on Kestrel, loopback, stateful: sessions and a GET stream for
/// what the server announces) with a few tools: <c>echo(text)</c>,
/// <c>hang()</c> (answers only when cancelled) and whatever a test adds, which the SDK announces to connected clients as a
/// tool-list change. It can be stopped and started again on the same port, as a server that went down and came back.
/// </summary>
public sealed class McpTestServer : IAsyncDisposable
{
    private readonly McpServerPrimitiveCollection<McpServerTool> _tools = [];
    private WebApplication? _app;
    private int _calls;

    private McpTestServer(int port)
    {
        Port = port;
        _tools.Add(McpServerTool.Create(
            (string text) =>
            {
                Interlocked.Increment(ref _calls);
                return $"echo: {text}";
            },
            new McpServerToolCreateOptions { Name = "echo", Description = "Repeats the text." }));
        _tools.Add(McpServerTool.Create(
            async (CancellationToken ct) =>
            {
                Interlocked.Increment(ref _calls);
                await Task.Delay(Timeout.Infinite, ct);
                return "never";
            },
            new McpServerToolCreateOptions { Name = "hang", Description = "Never answers." }));
    }

    public int Port { get; }

    public Uri Url => new($"http://127.0.0.1:{Port}/mcp");

    /// <summary>Tool calls the server received.</summary>
    public int Calls => Volatile.Read(ref _calls);

    public static async Task<McpTestServer> StartNewAsync()
    {
        var server = new McpTestServer(LoopbackPort());
        await server.StartAsync();
        return server;
    }

    /// <summary>Starts listening (again) on <see cref="Port"/>.</summary>
    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, Port));
        builder.Services.AddMcpServer(o => o.ToolCollection = _tools).WithHttpTransport(o => o.SessionMode = ModelContextProtocol.AspNetCore.HttpServerSessionMode.Stateful);
        var app = builder.Build();
        app.MapMcp("/mcp");
        await app.StartAsync();
        _app = app;
    }

    /// <summary>Stops listening and drops every session, as a server that went down.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _app, null) is { } app)
        {
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await app.StopAsync(grace.Token);
            await app.DisposeAsync();
        }
    }

    /// <summary>Adds a tool returning <paramref name="answer"/>; connected clients are told the list changed.</summary>
    public void AddTool(string name, string answer) =>
        _tools.Add(McpServerTool.Create(() => answer, new McpServerToolCreateOptions { Name = name, Description = $"Answers {answer}." }));

    public ValueTask DisposeAsync() => new(StopAsync());

    private static int LoopbackPort()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
