using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Agents.Contracts;
using Conclave.Deployment.Tests.Fixtures;
using Conclave.Deployment.Tests.Image;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Deployment.Tests.Backup;

/// <summary>
/// scripts/backup.sh while Conclave runs, scripts/restore.sh into a new database and workspace root, and
/// Conclave on those alone: sessions, the files code and uploads made, accounts and the Data Protection
/// keys (a stored provider key still decrypts) are all there.
/// </summary>
public sealed class BackupRestoreTests(ConclaveApp app, ITestOutputHelper output) : IClassFixture<ConclaveApp>, IAsyncLifetime
{
    private const string Key = "fake-user-key-that-must-survive-a-restore";
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(2);
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly PostgresFixture _postgres = new();
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "conclave-backup-tests", Guid.NewGuid().ToString("N"));

    public Task InitializeAsync() => _postgres.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _postgres.DisposeAsync();
        WorkspaceMounts.DeleteRoot(_folder);
    }

    [Fact]
    public async Task A_backup_taken_while_conclave_runs_restores_sessions_files_and_keys_into_a_new_database_and_root()
    {
        var owner = ConclaveApp.DefaultUserId;
        var session = await app.CreateSessionAsync("to be restored");
        app.Provider.Enqueue(
            Reply.ToolCall("run_python", """{"code": "open('made-by-code.txt', 'w').write('written in the sandbox')"}"""),
            Reply.Text("Done."));
        var posted = await app.PostMessageAsync(session.Id, "Write a file.");
        Assert.IsType<RunCompleted>((await app.WaitForRunEndAsync(session.Id, posted.RunId, Deadline)).Data);
        var upload = new MultipartFormDataContent { { new ByteArrayContent("uploaded by the user"u8.ToArray()), "files", "uploaded.txt" } };
        Assert.Equal(HttpStatusCode.Created, (await app.Client.PostAsync($"/api/v1/sessions/{session.Id}/files", upload)).StatusCode);
        var provider = await app.Service<IProviders>().CreateAsync(owner,
            new ProviderInput("Mine", ProviderPreset.Custom, app.Provider.BaseUrl, ["my-model"], Key, null, null), None);
        var team = await app.Service<ITeams>().CreateAsync(owner, new TeamDefinition
        {
            Name = "On my key",
            Agents = [new AgentDefinition("Solo", "Answers", "You are Solo.", [], provider.Id)],
        }, None);

        var backup = Path.Combine(_folder, "backup");
        var backedUp = Stopwatch.GetTimestamp();
        var backupLog = await Repository.ScriptAsync("backup.sh", TimeSpan.FromMinutes(5),
            backup, "--database", app.ConnectionString, "--workspaces", app.WorkspaceRoot);
        var backupTime = Stopwatch.GetElapsedTime(backedUp);
        Assert.Contains("1 session records, 1 file system images", backupLog.Errors);
        foreach (var schema in new[] { "conclave", "identity", "wolverine" })
        {
            Assert.Contains(schema, (await File.ReadAllTextAsync(Path.Combine(backup, "manifest.txt"))).Split('\n').Single(l => l.StartsWith("schemas:", StringComparison.Ordinal)));
        }

        var database = await _postgres.CreateDatabaseAsync("restored");
        var root = Path.Combine(_folder, "workspaces");
        var restoring = Stopwatch.GetTimestamp();
        await Repository.ScriptAsync("restore.sh", TimeSpan.FromMinutes(5), backup, "--database", database, "--workspaces", root);
        var restoreTime = Stopwatch.GetElapsedTime(restoring);
        // Never over data: a database with tables, or a root with files, is refused.
        var again = await Processes.RunAsync("bash", [Repository.PathOf("scripts/restore.sh"), backup, "--database", database, "--workspaces", Path.Combine(_folder, "other")], TimeSpan.FromMinutes(2));
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("restore into a new, empty database", again.Errors);
        var overRoot = await Processes.RunAsync("bash", [Repository.PathOf("scripts/restore.sh"), backup, "--database", await _postgres.CreateDatabaseAsync("second"), "--workspaces", root], TimeSpan.FromMinutes(2));
        Assert.NotEqual(0, overRoot.ExitCode);
        Assert.Contains("restore into a new root", overRoot.Errors);

        // From here on Conclave knows only the restored database and root.
        await app.StopHostAsync();
        app.ExtraSettings["ConnectionStrings:Conclave"] = database;
        app.ExtraSettings["Conclave:Sandbox:WorkspaceRoot"] = root;
        await app.StartHostAsync();
        try
        {
            Assert.Contains(await app.EventsAsync(session.Id), e => e.Data is RunCompleted);
            Assert.Equal("written in the sandbox", await app.Client.GetStringAsync($"/api/v1/sessions/{session.Id}/files/made-by-code.txt"));
            Assert.Equal("uploaded by the user", await app.Client.GetStringAsync($"/api/v1/sessions/{session.Id}/files/uploaded.txt"));

            // Code in a new sandbox sees the restored file system.
            app.Provider.Enqueue(
                Reply.ToolCall("run_python", """{"code": "print(open('made-by-code.txt').read().upper())"}"""),
                Reply.Text("Read it."));
            var reread = await app.PostMessageAsync(session.Id, "Read the file.");
            Assert.IsType<RunCompleted>((await app.WaitForRunEndAsync(session.Id, reread.RunId, Deadline)).Data);
            Assert.Contains("WRITTEN IN THE SANDBOX", (await app.EventsAsync(session.Id)).Select(e => e.Data).OfType<ToolCallCompleted>().Last().Output);

            // The key ring came along: the provider key stored before the backup decrypts.
            var sessions = app.Service<ISessions>();
            var keyed = await sessions.CreateAsync(owner, "on my key", None);
            await sessions.ChooseTeamAsync(owner, keyed.Id, team.Id, team.Name, None);
            var first = app.Provider.Requests.Count;
            app.Provider.Enqueue(Reply.Text("Hello from your model."));
            var run = await sessions.PostMessageAsync(owner, keyed.Id, "hi", None);
            Assert.IsType<RunCompleted>((await app.WaitForRunEndAsync(keyed.Id, run.RunId, Deadline)).Data);
            Assert.Equal($"Bearer {Key}", app.Provider.Requests[first].Authorization);
        }
        finally
        {
            await app.StopHostAsync();
        }

        long Bytes(string path) => new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        Figures.Print(output, "Backup and restore (one session, one workspace image)",
            ("scripts/backup.sh, Conclave running", Figures.Seconds(backupTime), "-", true),
            ("scripts/restore.sh into a new database and root", Figures.Seconds(restoreTime), "-", true),
            ("backup size (apparent; images are sparse on disk)", Figures.Size(Bytes(backup)), "-", true));
    }
}
