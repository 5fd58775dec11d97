using System.Diagnostics;
using System.Text.Json;
using Conclave.Deployment.Tests.Fixtures;
using Conclave.Testing;

namespace Conclave.Deployment.Tests.Image;

/// <summary>
/// The image as the README runs it, with its embedded PostgreSQL: a user registers, an agent's Python
/// runs in a sibling sandbox on the session's own file system, and all of it is there again after the
/// container is stopped and started.
/// </summary>
[Collection(ImageCollection.Name)]
public sealed class ImageTests(ConclaveImage image, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan RunDeadline = TimeSpan.FromMinutes(3);
    private ScriptedOpenAiServer _provider = null!;

    public async Task InitializeAsync() => _provider = await ScriptedOpenAiServer.StartAsync();

    public async Task DisposeAsync() => await _provider.DisposeAsync();

    [Fact]
    public async Task A_user_runs_python_in_a_sibling_sandbox_and_finds_the_session_and_its_files_after_a_restart()
    {
        var started = Stopwatch.GetTimestamp();
        await using var container = await ConclaveContainer.RunAsync(image, new ContainerOptions { ProviderBaseUrl = _provider.BaseUrl });
        var (health, fresh) = await container.WaitReadyAsync(started, StartDeadline);

        var logs = await container.LogsAsync();
        Assert.Contains("embedded PostgreSQL ready", logs);
        Assert.Contains("a file system per session", logs);
        Assert.Contains("the engine sees what Conclave mounts", logs);
        Assert.Contains("running Conclave as user conclave (uid 10001", logs);
        Assert.Contains("with capabilities sys_admin, chown, dac_override, fowner only", logs);
        Assert.Equal("Healthy", Check(health, "postgresql").GetProperty("status").GetString());

        using var user = new BrowserUser(container.BaseAddress);
        await user.RegisterAsync("founder");
        var session = await user.CreateSessionAsync("in the image");
        _provider.Enqueue(
            Reply.ToolCall("run_python", """{"code": "open('answer.txt', 'w').write(str(6 * 7))\nprint(6 * 7)"}""", id: "call_py_1"),
            Reply.Text("The answer is in answer.txt."));
        var posted = await user.PostMessageAsync(session.Id, "What is 6 times 7? Keep it in a file.");

        Assert.Equal("RunCompleted", await user.WaitForRunEndAsync(session.Id, posted.RunId, RunDeadline));
        var result = (await user.EventsAsync(session.Id)).Single(e => e.Type == "ToolCallCompleted").Data;
        Assert.Equal("Ok", result.GetProperty("outcome").GetString());
        Assert.Contains("42", result.GetProperty("output").GetString());
        Assert.Equal("42", await user.DownloadAsync(session.Id, "answer.txt"));
        // The sandbox limits were verified from inside, the workspace quota by a file system of the session's own,
        // mounted in the container and seen on the host (where the engine bound it into the sandbox).
        var (_, ready) = await container.ReadinessAsync();
        Assert.Contains("Every sandbox limit is enforced", Check(ready, "sandbox").GetProperty("description").GetString());
        Assert.Single(WorkspaceMounts.Under(container.WorkspacesHostPath));
        Assert.True(await container.HealthCheckPassesAsync(), "the image's HEALTHCHECK command fails");
        // Prometheus' port has Conclave's meters and ASP.NET Core's; the public port does not serve them.
        using (var metrics = new HttpClient())
        {
            var text = await metrics.GetStringAsync($"http://127.0.0.1:{container.MetricsPort}/metrics");
            Assert.Contains("\nconclave_", text);
            Assert.Contains("http_server_request_duration_seconds_count", text);
            Assert.DoesNotContain("# TYPE", await metrics.GetStringAsync(new Uri(container.BaseAddress, "/metrics")));
        }

        await container.StopAsync();
        Assert.Empty(WorkspaceMounts.Under(container.WorkspacesHostPath));
        var restarted = Stopwatch.GetTimestamp();
        await container.StartAsync();
        var (_, again) = await container.WaitReadyAsync(restarted, StartDeadline);

        // The same browser is still signed in (the key ring is in the database), and everything is there.
        var events = await user.EventsAsync(session.Id);
        Assert.Contains(events, e => e.Type == "RunCompleted");
        Assert.Equal("42", await user.DownloadAsync(session.Id, "answer.txt"));
        _provider.Enqueue(
            Reply.ToolCall("run_python", """{"code": "print(open('answer.txt').read() + ' again')"}""", id: "call_py_2"),
            Reply.Text("Still 42."));
        var second = await user.PostMessageAsync(session.Id, "Is the file still there?");
        Assert.Equal("RunCompleted", await user.WaitForRunEndAsync(session.Id, second.RunId, RunDeadline));
        var reread = (await user.EventsAsync(session.Id)).Where(e => e.Type == "ToolCallCompleted").Last().Data;
        Assert.Contains("42 again", reread.GetProperty("output").GetString());

        Figures.Print(output, "The Conclave image (embedded PostgreSQL)",
            ("image build by scripts/image.sh (this run; cached when up to date)", Figures.Seconds(TimeSpan.FromSeconds(image.BuildSeconds)), "-", true),
            ("image size", Figures.Size(image.SizeBytes), $"< {Figures.Size((long)Figures.SizeTargetBytes)}", image.SizeBytes < Figures.SizeTargetBytes),
            ("cold start to /health/ready, new /data (initdb, schemas)", Figures.Seconds(fresh), $"< {Figures.ColdStartTargetSeconds} s", fresh.TotalSeconds < Figures.ColdStartTargetSeconds),
            ("cold start to /health/ready, existing /data", Figures.Seconds(again), $"< {Figures.ColdStartTargetSeconds} s", again.TotalSeconds < Figures.ColdStartTargetSeconds));
    }

    internal static JsonElement Check(JsonDocument health, string name) =>
        health.RootElement.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);
}
