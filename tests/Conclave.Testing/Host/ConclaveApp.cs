using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Conclave.Sessions.Contracts;
using Xunit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Testing.Host;

/// <summary>
/// The whole Host on its own fresh PostgreSQL database, talking to a scripted OpenAI-compatible
/// provider over real HTTP. One per test class.
/// </summary>
public class ConclaveApp : IAsyncLifetime
{
    private readonly bool _kestrel;

    public ConclaveApp()
        : this(kestrel: false)
    {
    }

    /// <param name="kestrel">Serve on a real loopback port (browsers, benchmarks) instead of the in-memory test server.</param>
    protected ConclaveApp(bool kestrel) => _kestrel = kestrel;

    /// <summary>A Host served on a real loopback port (xunit fixtures may have one public constructor only).</summary>
    public static ConclaveApp OnKestrel() => new(kestrel: true);

    /// <summary>Where the Host listens when served on Kestrel.</summary>
    public Uri BaseAddress { get; private set; } = new("http://localhost/");

    public const string ProviderKey = "sk-test-0123456789abcdefghijklmnop";

    /// <summary>The largest upload the Host accepts in tests (small, so a test can exceed it cheaply).</summary>
    public const long MaxUploadBytes = 1024 * 1024;

    /// <summary>This Host's sandbox node id: its containers are its own ("tests-" marks a test node's leftovers).</summary>
    public string SandboxNodeId { get; } = "tests-host-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The folder holding one workspace folder per session, removed when the fixture is disposed.</summary>
    public string WorkspaceRoot { get; } = Path.Combine(Path.GetTempPath(), "conclave-host-tests", Guid.NewGuid().ToString("N"));

    private readonly PostgresFixture _postgres = new();
    private WebApplicationFactory<Program>? _factory;

    public ScriptedOpenAiServer Provider { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public string ConnectionString { get; private set; } = "";

    public IServiceProvider Services => _factory!.Services;

    public WebApplicationFactory<Program> Factory => _factory!;

    /// <summary>Settings on top of the defaults below (a subclass sets them in its constructor).</summary>
    public Dictionary<string, string> ExtraSettings { get; } = [];

    public virtual async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        ConnectionString = await _postgres.CreateDatabaseAsync("host");
        Provider = await ScriptedOpenAiServer.StartAsync();
        StartHost();
    }

    /// <summary>
    /// Shuts the Host down (gracefully, as a deployment would) and starts a new one on the same
    /// database, provider and workspaces: what was running must carry on.
    /// </summary>
    public async Task RestartAsync()
    {
        Client.Dispose();
        await _factory!.DisposeAsync();
        StartHost();
    }

    private void StartHost()
    {
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment("Testing");
            builder.UseContentRoot(HostContentRoot());
            // Serve Blazor's framework scripts from the build output, as Development does.
            builder.UseStaticWebAssets();
            // UseSetting, not ConfigureAppConfiguration: Program reads the connection string while
            // building, before configuration callbacks of the factory would apply.
            var settings = new Dictionary<string, string>
            {
                ["ConnectionStrings:Conclave"] = ConnectionString,
                ["Conclave:Models:Default:BaseUrl"] = Provider.BaseUrl.ToString(),
                ["Conclave:Models:Default:Model"] = "scripted-model",
                ["Conclave:Models:Default:ApiKey"] = ProviderKey,
                ["Conclave:Models:Default:MaxRetries"] = "1",
                ["Conclave:Models:Default:IdleTimeout"] = "00:00:10",
                // Real containers (Podman), but none started ahead: tests that execute code start their own.
                ["Conclave:Sandbox:WarmPoolSize"] = "0",
                ["Conclave:Sandbox:NodeId"] = SandboxNodeId,
                ["Conclave:Sandbox:WorkspaceRoot"] = WorkspaceRoot,
                ["Conclave:Sandbox:MaxUploadBytes"] = MaxUploadBytes.ToString(CultureInfo.InvariantCulture),
                // Quick heartbeats and reaping, so tests of lost nodes take seconds.
                ["Conclave:Runs:HeartbeatInterval"] = "00:00:00.200",
                ["Conclave:Runs:LeaseTimeout"] = "00:00:01.500",
                ["Conclave:Runs:ReaperInterval"] = "00:00:00.250",
            };
            foreach (var (key, value) in ExtraSettings)
            {
                settings[key] = value;
            }

            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }
        });
        BeforeStart(_factory);
        Client = _factory.CreateClient();
    }

    private void BeforeStart(WebApplicationFactory<Program> factory)
    {
        if (!_kestrel)
        {
            return;
        }

        factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        var addresses = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!;
        BaseAddress = new Uri(addresses.Addresses.First().TrimEnd('/') + "/");
    }

    public virtual async Task DisposeAsync()
    {
        // Initialisation may have failed part-way; dispose what exists.
        Client?.Dispose();
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }

        if (Provider is not null)
        {
            await Provider.DisposeAsync();
        }

        await _postgres.DisposeAsync();
        if (Directory.Exists(WorkspaceRoot))
        {
            Directory.Delete(WorkspaceRoot, recursive: true);
        }
    }

    /// <summary>src/Host of this checkout, found from the running binary (tests and benchmarks alike).</summary>
    private static string HostContentRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Monolith.sln")))
            {
                return Path.Combine(dir.FullName, "src", "Host");
            }
        }

        throw new InvalidOperationException($"No Monolith.sln above {AppContext.BaseDirectory}.");
    }

    public T Service<T>() where T : notnull => Services.GetRequiredService<T>();

    public async Task<SessionSummary> CreateSessionAsync(string? title = null)
    {
        var response = await Client.PostAsJsonAsync("/api/v1/sessions", new { title });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<SessionSummary>(Json.Options))!;
    }

    public async Task<PostedMessage> PostMessageAsync(Guid sessionId, string text)
    {
        var response = await Client.PostAsJsonAsync($"/api/v1/sessions/{sessionId}/messages", new { text });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<PostedMessage>(Json.Options))!;
    }

    /// <summary>Waits, through the live feed, for the first event matching <paramref name="match"/>.</summary>
    public async Task<SessionEvent> WaitForEventAsync<TEvent>(Guid sessionId, Func<TEvent, bool>? match = null, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        try
        {
            await foreach (var item in Service<ISessionFeed>().SubscribeAsync(sessionId, 0, deadline.Token))
            {
                if (item is FeedEvent { Event: { Data: TEvent data } e } && (match is null || match(data)))
                {
                    return e;
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
        }

        throw new TimeoutException($"No {typeof(TEvent).Name} in session {sessionId} in time.");
    }

    public Task<SessionEvent> WaitForRunEndAsync(Guid sessionId, Guid runId, TimeSpan? timeout = null) =>
        WaitForEventAsync<object>(
            sessionId,
            e => e is RunCompleted c && c.RunId == runId || e is RunFailed f && f.RunId == runId || e is RunCancelled x && x.RunId == runId,
            timeout);

    public async Task<IReadOnlyList<SessionEvent>> EventsAsync(Guid sessionId) =>
        await Service<ISessionLog>().ReadAsync(sessionId, 0, CancellationToken.None);
}
