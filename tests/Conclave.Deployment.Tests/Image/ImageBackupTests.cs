using System.Diagnostics;
using Conclave.Deployment.Tests.Fixtures;
using Conclave.Testing;

namespace Conclave.Deployment.Tests.Image;

/// <summary>
/// A running container backed up from the host (its embedded database through `podman exec`, its
/// workspaces from the host folder) and restored into a new container's new /data: the same browser is
/// still signed in (the key ring came along), the session and the file code wrote are there.
/// </summary>
[Collection(ImageCollection.Name)]
public sealed class ImageBackupTests(ConclaveImage image, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(4);
    private readonly string _backup = Path.Combine(Path.GetTempPath(), "conclave-image-backups", Guid.NewGuid().ToString("N"));
    private ScriptedOpenAiServer _provider = null!;

    public async Task InitializeAsync() => _provider = await ScriptedOpenAiServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _provider.DisposeAsync();
        if (Directory.Exists(_backup))
        {
            Directory.Delete(_backup, recursive: true);
        }
    }

    [Fact]
    public async Task A_backup_of_a_running_container_restores_into_a_new_container_with_sessions_files_and_sign_ins()
    {
        using var user = new BrowserUser(new Uri("http://127.0.0.1/"));
        Guid sessionId;
        await using (var first = await ConclaveContainer.RunAsync(image, new ContainerOptions { ProviderBaseUrl = _provider.BaseUrl }))
        {
            await first.WaitReadyAsync(Stopwatch.GetTimestamp(), Deadline);
            user.UseAddress(first.BaseAddress);
            await user.RegisterAsync("keeper");
            sessionId = (await user.CreateSessionAsync("backed up")).Id;
            _provider.Enqueue(
                Reply.ToolCall("run_python", """{"code": "open('kept.txt', 'w').write('kept across containers')"}"""),
                Reply.Text("Kept."));
            var posted = await user.PostMessageAsync(sessionId, "Keep a file.");
            Assert.Equal("RunCompleted", await user.WaitForRunEndAsync(sessionId, posted.RunId, Deadline));

            var backedUp = Stopwatch.GetTimestamp();
            var backup = await Repository.ScriptAsync("backup.sh", TimeSpan.FromMinutes(5),
                _backup, "--container", first.Name, "--workspaces", first.WorkspacesHostPath);
            var took = Stopwatch.GetElapsedTime(backedUp);
            Assert.Contains("1 session records, 1 file system images", backup.Errors);
            Figures.Print(output, "Backup of a running container", ("scripts/backup.sh --container", Figures.Seconds(took), "-", true));
        }

        await using var second = await ConclaveContainer.RunAsync(image, new ContainerOptions { ProviderBaseUrl = _provider.BaseUrl, RestoreFrom = _backup });
        var (_, ready) = await second.WaitReadyAsync(Stopwatch.GetTimestamp(), Deadline);
        Assert.Contains("restore: from /restore", await second.LogsAsync());
        user.UseAddress(second.BaseAddress);

        Assert.Equal("kept across containers", await user.DownloadAsync(sessionId, "kept.txt"));
        _provider.Enqueue(
            Reply.ToolCall("run_python", """{"code": "print(open('kept.txt').read().upper())"}"""),
            Reply.Text("Still there."));
        var reread = await user.PostMessageAsync(sessionId, "Read it.");
        Assert.Equal("RunCompleted", await user.WaitForRunEndAsync(sessionId, reread.RunId, Deadline));
        Assert.Contains("KEPT ACROSS CONTAINERS", (await user.EventsAsync(sessionId)).Last(e => e.Type == "ToolCallCompleted").Data.GetProperty("output").GetString());
        Figures.Print(output, "Restore into a new container", ("cold start to /health/ready with CONCLAVE_RESTORE_FROM", Figures.Seconds(ready), $"< {Figures.ColdStartTargetSeconds} s", ready.TotalSeconds < Figures.ColdStartTargetSeconds));
    }
}
