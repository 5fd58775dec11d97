using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Agents;

/// <summary>
/// The old system's zombie runs: a worker killed mid-run. Here a Host runs as its own process, is
/// killed (SIGKILL, no goodbye) mid-run, and a new Host on the same database finishes the run.
/// </summary>
public sealed class KilledHostTests(ConclaveApp app) : IClassFixture<ConclaveApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_run_whose_host_process_is_killed_finishes_on_a_new_host_with_no_step_lost_or_repeated()
    {
        // The in-process Host set the database up (accounts, the test client); it steps aside for the process.
        await app.StopHostAsync();
        var port = FreePort();
        using var child = StartHostProcess(port);
        try
        {
            using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true })
            {
                BaseAddress = new Uri($"http://127.0.0.1:{port}/"),
            };
            await WaitUntilReadyAsync(http, child);
            var login = await OidcFlow.SignInAsync(http, ConclaveApp.DefaultUserName, ConclaveApp.Password);
            Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
            var tokens = await OidcFlow.AuthorizeAsync(http, ConclaveApp.TestClientId, ConclaveApp.TestRedirectUri);
            using var api = new HttpClient { BaseAddress = http.BaseAddress };
            api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);

            var first = app.Provider.Requests.Count;
            app.Provider.Enqueue(
                Reply.ToolCall("list_files", "{}", id: "call_before_kill"),
                Reply.Chunks("Half an ", "answer").StallAfter(1));
            var created = await api.PostAsJsonAsync("/api/v1/sessions", new { title = "killed" });
            var session = (await created.Content.ReadFromJsonAsync<SessionSummary>(Json.Options))!;
            var posted = await api.PostAsJsonAsync($"/api/v1/sessions/{session.Id}/messages", new { text = "List my files, then explain." });
            var run = (await posted.Content.ReadFromJsonAsync<PostedMessage>(Json.Options))!;
            var stalled = await app.Provider.WaitForRequestAsync(first + 1, Deadline);
            await stalled.WaitForChunkSentAsync(0, Deadline);

            child.Kill(entireProcessTree: true);
            await child.WaitForExitAsync();

            app.Provider.Enqueue(Reply.Text("The workspace is empty."));
            await app.StartHostAsync();
            var end = await app.WaitForRunEndAsync(session.Id, run.RunId, Deadline);

            Assert.IsType<RunCompleted>(end.Data);
            var events = await app.EventsAsync(session.Id);
            ResilienceTests.AssertNoStepTwice(events);
            Assert.Single(events, e => e.Data is ToolCallCompleted);
            Assert.Contains(events, e => e.Data is RunRequeued);
            Assert.Equal(["", "The workspace is empty."], events.Select(e => e.Data).OfType<AgentMessageCompleted>().Select(m => m.Text));
            Assert.Contains(app.Provider.Requests[first + 2].Messages, m => m.Role == "tool" && m.ToolCallId == "call_before_kill");
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
            }
        }
    }

    private Process StartHostProcess(int port)
    {
        var host = Path.Combine(AppContext.BaseDirectory, "Conclave.Host.dll");
        var start = new ProcessStartInfo("dotnet", [host])
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in app.Settings())
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        start.Environment["Conclave__Sandbox__NodeId"] = "tests-child-" + Guid.NewGuid().ToString("N")[..8];
        start.Environment["Conclave__Identity__AllowHttp"] = "true";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static Task WaitUntilReadyAsync(HttpClient http, Process child) =>
        Eventually.Until(async () =>
        {
            Assert.False(child.HasExited, $"The Host process exited with {(child.HasExited ? child.ExitCode : 0)}");
            try
            {
                return (await http.GetAsync("/health/ready")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false; // not listening yet
            }
        }, Deadline, "the Host process answers /health/ready");

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
