using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace Conclave.Testing.Host;

/// <summary>
/// The Host as a separate process (the build output's Conclave.Host.dll) on a fixture's database,
/// provider and workspaces: another node, which a test can kill (SIGKILL, no goodbye) or stop (SIGTERM).
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly Process _process;

    private HostProcess(Process process, Uri baseAddress, string sandboxNodeId)
    {
        _process = process;
        BaseAddress = baseAddress;
        SandboxNodeId = sandboxNodeId;
    }

    public Uri BaseAddress { get; }

    public string SandboxNodeId { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts a Host on <paramref name="app"/>'s settings (plus <paramref name="settings"/>) and waits until it is ready.</summary>
    public static async Task<HostProcess> StartAsync(ConclaveApp app, IReadOnlyDictionary<string, string>? settings = null)
    {
        var port = FreePort();
        var host = Path.Combine(AppContext.BaseDirectory, "Conclave.Host.dll");
        var start = new ProcessStartInfo("dotnet", [host])
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var sandboxNodeId = "tests-child-" + Guid.NewGuid().ToString("N")[..8];
        var all = app.Settings();
        all["Conclave:Sandbox:NodeId"] = sandboxNodeId;
        all["Conclave:Identity:AllowHttp"] = "true";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            all[key] = value;
        }

        foreach (var (key, value) in all)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var node = new HostProcess(process, new Uri($"http://127.0.0.1:{port}/"), sandboxNodeId);
        try
        {
            await node.WaitUntilReadyAsync();
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }

        return node;
    }

    /// <summary>An API client signed in as the fixture's default user (login form, then code + PKCE), on this node.</summary>
    public async Task<HttpClient> SignInAsync()
    {
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true }) { BaseAddress = BaseAddress };
        var login = await OidcFlow.SignInAsync(browser, ConclaveApp.DefaultUserName, ConclaveApp.Password);
        if (login.StatusCode != HttpStatusCode.Redirect)
        {
            throw new InvalidOperationException($"Signing in on the Host process answered {(int)login.StatusCode}.");
        }

        var tokens = await OidcFlow.AuthorizeAsync(browser, ConclaveApp.TestClientId, ConclaveApp.TestRedirectUri);
        var api = new HttpClient { BaseAddress = BaseAddress };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        return api;
    }

    /// <summary>SIGKILL: the node dies with no goodbye.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as an orchestrator stops a node: it drains (ADR 0015) and exits.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
        using var deadline = new CancellationTokenSource(Deadline);
        await _process.WaitForExitAsync(deadline.Token);
    }

    /// <summary>SIGSTOP: the node freezes mid-flight (a long GC pause, a VM stalled) and falls silent; its containers run on.</summary>
    public Task PauseAsync() => SignalAsync("-STOP");

    /// <summary>SIGCONT after <see cref="PauseAsync"/>: the node goes on where it stopped, unaware of the time that passed.</summary>
    public Task ResumeAsync() => SignalAsync("-CONT");

    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", [signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
    }

    public int ExitCode => _process.ExitCode;

    private async Task WaitUntilReadyAsync()
    {
        using var http = new HttpClient { BaseAddress = BaseAddress };
        await Eventually.Until(async () =>
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The Host process exited with {_process.ExitCode}.");
            }

            try
            {
                return (await http.GetAsync("/health/ready")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false; // not listening yet
            }
        }, Deadline, "the Host process answers /health/ready");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
