using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Conclave.Identity.Contracts;
using Conclave.Sessions.Contracts;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Conclave.Testing.Host;

/// <summary>
/// The whole Host on its own fresh PostgreSQL database, talking to a scripted OpenAI-compatible
/// provider over real HTTP. One per test class, or one per collection of classes that can share it (`SharedHost`).
/// </summary>
public class ConclaveApp : IAsyncLifetime
{
    private readonly bool _kestrel;
    private ConclaveApp? _joins;

    public ConclaveApp()
        : this(kestrel: false)
    {
    }

    /// <param name="kestrel">Serve on a real loopback port (browsers, benchmarks) instead of the in-memory test server.</param>
    protected ConclaveApp(bool kestrel) => _kestrel = kestrel;

    /// <summary>A Host served on a real loopback port (xunit fixtures may have one public constructor only).</summary>
    public static ConclaveApp OnKestrel() => new(kestrel: true);

    /// <summary>
    /// Another node of <paramref name="first"/>'s installation (ADR 0015), in this process: its database,
    /// provider, accounts and workspace root, its own sandbox node id. Initialise it after the first;
    /// disposing it leaves what it shares to the first.
    /// </summary>
    public static ConclaveApp SecondNodeOf(ConclaveApp first, bool kestrel = true) =>
        new(kestrel) { _joins = first, WorkspaceRoot = first.WorkspaceRoot };

    /// <summary>Where the Host listens when served on Kestrel.</summary>
    public Uri BaseAddress { get; private set; } = new("http://localhost/");

    public const string ProviderKey = "fake-provider-key-for-tests-0123456789";

    /// <summary>The largest upload the Host accepts in tests (small, so a test can exceed it cheaply).</summary>
    public const long MaxUploadBytes = 1024 * 1024;

    /// <summary>This Host's sandbox node id: its containers are its own ("tests-" marks a test node's leftovers).</summary>
    public string SandboxNodeId { get; } = "tests-host-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The folder holding one workspace folder per session, removed when the fixture is disposed.</summary>
    public string WorkspaceRoot { get; private init; } = Path.Combine(Path.GetTempPath(), "conclave-host-tests", Guid.NewGuid().ToString("N"));

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
        if (_joins is { } first)
        {
            ConnectionString = first.ConnectionString;
            Provider = first.Provider;
            StartHost();
            Client = await CreateUserClientAsync(DefaultUserName);
            return;
        }

        await _postgres.InitializeAsync();
        ConnectionString = await _postgres.CreateDatabaseAsync("host");
        Provider = await ScriptedOpenAiServer.StartAsync();
        StartHost();
        await SignInDefaultUserAsync();
    }

    /// <summary>
    /// Shuts the Host down (gracefully, as a deployment would) and starts a new one on the same
    /// database, provider and workspaces: what was running must carry on.
    /// </summary>
    public async Task RestartAsync()
    {
        await StopHostAsync();
        // The accounts and clients are in the database already: only sign in again.
        await StartHostAsync();
    }

    /// <summary>The Host's settings in this fixture (also for a Host started as a separate process).</summary>
    public Dictionary<string, string> Settings()
    {
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:Conclave"] = ConnectionString,
            ["Conclave:Models:Default:BaseUrl"] = Provider.BaseUrl.ToString(),
            ["Conclave:Models:Default:Model"] = "scripted-model",
            ["Conclave:Models:Default:ApiKey"] = ProviderKey,
            ["Conclave:Models:Default:MaxRetries"] = "1",
            ["Conclave:Models:Default:IdleTimeout"] = "00:00:10",
            // The default provider is trusted by the egress policy as the installation's own. Users'
            // providers in tests point at the same scripted server on loopback: its port (and only
            // that) is allow-listed, as an admin would allow a local Ollama.
            ["Conclave:Egress:AllowList:0"] = $"127.0.0.1:{Provider.BaseUrl.Port}",
            // Real containers (Podman), but none started ahead: tests that execute code start their own.
            ["Conclave:Sandbox:WarmPoolSize"] = "0",
            ["Conclave:Sandbox:NodeId"] = SandboxNodeId,
            ["Conclave:Sandbox:WorkspaceRoot"] = WorkspaceRoot,
            ["Conclave:Sandbox:MaxUploadBytes"] = MaxUploadBytes.ToString(CultureInfo.InvariantCulture),
            // Quick heartbeats and reaping, so tests of lost nodes take seconds.
            ["Conclave:Runs:HeartbeatInterval"] = "00:00:00.200",
            ["Conclave:Runs:LeaseTimeout"] = "00:00:01.500",
            ["Conclave:Runs:ReaperInterval"] = "00:00:00.250",
            // Tests register users freely; the rate-limit tests set their own low limit.
            ["Conclave:Identity:Registration"] = "Open",
            ["Conclave:RateLimits:PermitLimit"] = "100000",
            // Tests sign in often from one address (the in-memory server gives none); the throttle tests set their own limits.
            ["Conclave:Identity:SignInThrottle:AddressPermitLimit"] = "100000",
            ["Conclave:Identity:SignInThrottle:UserNameFailureLimit"] = "100000",
            // Tests and benchmarks run many runs at once; the quota tests set their own limits.
            ["Conclave:Quotas:MaxConcurrentRuns"] = "1000",
        };
        foreach (var (key, value) in ExtraSettings)
        {
            settings[key] = value;
        }

        AddSettings(settings);
        return settings;
    }

    /// <summary>Stops the in-process Host (gracefully) and leaves the database, provider and workspaces as they are.</summary>
    public async Task StopHostAsync()
    {
        Client.Dispose();
        await _factory!.DisposeAsync();
        _factory = null;
    }

    /// <summary>Starts the in-process Host again after <see cref="StopHostAsync"/> and signs the default user in.</summary>
    public async Task StartHostAsync()
    {
        StartHost();
        Client = FreshInstall ? CreateAnonymousClient() : await CreateUserClientAsync(DefaultUserName);
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
            var settings = Settings();
            ConfigureHost(builder);
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }
        });
        BeforeStart(_factory);
    }

    private async Task SignInDefaultUserAsync()
    {
        // The default user signs in like everyone else: login form, then authorization code + PKCE.
        await RegisterClientAsync(TestClientId, TestRedirectUri);
        if (!FreshInstall)
        {
            await CreateUserAsync(DefaultUserName, DefaultUserId);
            Client = await CreateUserClientAsync(DefaultUserName);
        }
        else
        {
            Client = CreateAnonymousClient();
        }
    }

    /// <summary>No account exists (and <see cref="Client"/> is anonymous): the first to register becomes admin.</summary>
    protected virtual bool FreshInstall => false;

    /// <summary>The default user's id: every session <see cref="Client"/> creates is owned by it.</summary>
    public const string DefaultUserId = "local";

    public const string DefaultUserName = "tester";

    /// <summary>Every test user's password (strong enough for the Host's rules).</summary>
    public const string Password = "Correct-Horse-9-Battery";

    /// <summary>A public client (PKCE, no secret) the fixture registers for its users.</summary>
    public const string TestClientId = "conclave-tests";

    public static readonly Uri TestRedirectUri = new("http://localhost/callback");

    /// <summary>More settings for a derived fixture (e.g. a short token lifetime).</summary>
    protected virtual void AddSettings(IDictionary<string, string> settings)
    {
    }

    /// <summary>More host configuration for a derived fixture (e.g. a logger provider).</summary>
    protected virtual void ConfigureHost(IWebHostBuilder builder)
    {
    }

    /// <summary>A client with no credentials; it does not follow redirects.</summary>
    public HttpClient CreateAnonymousClient() => CreateClient(allowAutoRedirect: false, handleCookies: false);

    /// <summary>A client that keeps cookies like a browser and does not follow redirects.</summary>
    public HttpClient CreateCookieClient() => CreateClient(allowAutoRedirect: false, handleCookies: true);

    /// <summary>
    /// A client that keeps cookies like a browser, does not follow redirects, and whose requests come from
    /// <paramref name="remoteAddress"/> (as the Host sees it), e.g. an attacker's and a user's machine.
    /// </summary>
    public HttpClient CreateCookieClient(IPAddress remoteAddress)
    {
        if (_kestrel)
        {
            throw new InvalidOperationException("On Kestrel the Host sees the socket's address; only the in-memory Host can be given another.");
        }

        var fromAddress = _factory!.Server.CreateHandler(context => context.Connection.RemoteIpAddress = remoteAddress);
        return new HttpClient(new CookieContainerHandler { InnerHandler = fromAddress }) { BaseAddress = _factory.ClientOptions.BaseAddress };
    }

    // On Kestrel the factory's client options do not apply: a plain socket client keeps them.
    private HttpClient CreateClient(bool allowAutoRedirect, bool handleCookies) => _kestrel
        ? new HttpClient(new HttpClientHandler { AllowAutoRedirect = allowAutoRedirect, UseCookies = handleCookies }) { BaseAddress = BaseAddress }
        : _factory!.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = allowAutoRedirect, HandleCookies = handleCookies });

    /// <summary>Gives an existing account the admin role (creating the role on first use).</summary>
    public async Task MakeAdminAsync(string userName)
    {
        await using var scope = Services.CreateAsyncScope();
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        if (!await roles.RoleExistsAsync(ConclaveRoles.Admin))
        {
            await roles.CreateAsync(new IdentityRole(ConclaveRoles.Admin));
        }

        var users = scope.ServiceProvider.GetRequiredService<UserManager<IdentityUser>>();
        await users.AddToRoleAsync((await users.FindByNameAsync(userName))!, ConclaveRoles.Admin);
    }

    /// <summary>Creates an account through the Host's UserManager (the id is optional).</summary>
    public async Task<IdentityUser> CreateUserAsync(string userName, string? id = null)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<IdentityUser>>();
        var user = new IdentityUser { UserName = userName, Email = userName + "@example.com" };
        if (id is not null)
        {
            user.Id = id;
        }

        var created = await users.CreateAsync(user, Password);
        if (!created.Succeeded)
        {
            throw new InvalidOperationException(string.Join(" ", created.Errors.Select(e => e.Description)));
        }

        return user;
    }

    /// <summary>Registers an OpenID Connect client as an admin would on the admin page.</summary>
    public async Task<string?> RegisterClientAsync(string clientId, Uri? redirectUri, bool confidential = false)
    {
        await using var scope = Services.CreateAsyncScope();
        var (secret, error) = await scope.ServiceProvider.GetRequiredService<IOidcClients>().CreateAsync(
            clientId, clientId, confidential, redirectUri is null ? [] : [redirectUri.ToString()], CancellationToken.None);
        return error is null ? secret : throw new InvalidOperationException(error);
    }

    /// <summary>Signs <paramref name="userName"/> in through the login form and gets its tokens by code + PKCE.</summary>
    public async Task<TokenSet> SignInForTokensAsync(string userName, string scope = OidcFlow.ApiScopes)
    {
        using var browser = CreateCookieClient();
        var login = await OidcFlow.SignInAsync(browser, userName, Password);
        if (login.StatusCode != HttpStatusCode.Redirect)
        {
            throw new InvalidOperationException($"Signing in {userName} answered {(int)login.StatusCode}: {await login.Content.ReadAsStringAsync()}");
        }

        return await OidcFlow.AuthorizeAsync(browser, TestClientId, TestRedirectUri, scope);
    }

    /// <summary>An API client acting as <paramref name="userName"/> (created when missing) with a bearer token.</summary>
    public async Task<HttpClient> CreateUserClientAsync(string userName)
    {
        await using (var scope = Services.CreateAsyncScope())
        {
            if (await scope.ServiceProvider.GetRequiredService<UserManager<IdentityUser>>().FindByNameAsync(userName) is null)
            {
                await CreateUserAsync(userName);
            }
        }

        var tokens = await SignInForTokensAsync(userName);
        return CreateBearerClient(tokens.AccessToken);
    }

    /// <summary>The sign-in cookies (name, value) the login form sets for <paramref name="userName"/>, e.g. for a browser.</summary>
    public async Task<IReadOnlyList<KeyValuePair<string, string>>> SignInCookiesAsync(string userName)
    {
        using var browser = CreateCookieClient();
        var login = await OidcFlow.SignInAsync(browser, userName, Password);
        var cookies = login.Headers.TryGetValues("Set-Cookie", out var values) ? values : [];
        var signIn = cookies
            .Select(c => c.Split(';')[0].Split('=', 2))
            .Where(pair => pair.Length == 2 && pair[0].StartsWith("conclave.auth", StringComparison.Ordinal))
            .Select(pair => KeyValuePair.Create(pair[0], pair[1]))
            .ToList();
        return signIn.Count > 0
            ? signIn
            : throw new InvalidOperationException($"Signing in {userName} set no cookie ({(int)login.StatusCode}): {string.Join("; ", cookies)} {await login.Content.ReadAsStringAsync()}");
    }

    public HttpClient CreateBearerClient(string accessToken)
    {
        var client = CreateClient(allowAutoRedirect: true, handleCookies: true);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return client;
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

        if (_joins is not null)
        {
            return; // the first node owns the database, the provider and the workspaces
        }

        if (Provider is not null)
        {
            await Provider.DisposeAsync();
        }

        await _postgres.DisposeAsync();
        // A Host killed in a test leaves its workspaces mounted.
        WorkspaceMounts.DeleteRoot(WorkspaceRoot);
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
            e => e is IRunEnded ended && ended.RunId == runId,
            timeout);

    public async Task<IReadOnlyList<SessionEvent>> EventsAsync(Guid sessionId) =>
        await Service<ISessionLog>().ReadAsync(sessionId, 0, CancellationToken.None);
}
