using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Conclave.Sandbox.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Sandbox;

/// <summary>
/// Code in one session swaps a folder with a symlink to ".." as fast as it can while the files API
/// lists, uploads, downloads and deletes through it: nothing outside the session is touched, and the
/// Host answers every request without a 500.
/// </summary>
public sealed class WorkspaceRaceTests(ConclaveApp app) : IClassFixture<ConclaveApp>
{
    private static readonly TimeSpan Flipping = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_folder_swapped_with_a_symlink_to_its_parent_never_leads_the_host_outside_the_session()
    {
        var attacker = await app.CreateSessionAsync("flipper");
        var neighbour = await app.CreateSessionAsync("neighbour");
        await UploadAsync(neighbour.Id, "canary.txt", "neighbour's canary");
        var outsideCanary = Path.Combine(app.WorkspaceRoot, "canary.txt");
        var besideCanary = Path.Combine(Path.GetDirectoryName(app.WorkspaceRoot)!, $"canary-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(outsideCanary, "root canary");
        await File.WriteAllTextAsync(besideCanary, "beside canary");
        await UploadAsync(attacker.Id, "a/x.txt", "inside");
        var sandbox = app.Service<ISandbox>();
        var prepared = await sandbox.ExecuteAsync(attacker.Id, "import os\nos.symlink('..', 'b')");
        Assert.True(prepared.Status == ExecutionStatus.Ok, $"{prepared.Error?.Name}: {prepared.Error?.Value}");
        var before = SnapshotOutsideMounts();

        var flipper = sandbox.ExecuteAsync(attacker.Id, $$"""
            import ctypes, os, time
            libc = ctypes.CDLL(None, use_errno=True)
            flips, deadline = 0, time.monotonic() + {{Flipping.TotalSeconds}}
            while time.monotonic() < deadline:
                libc.renameat2(-100, b'a', -100, b'b', 2)  # RENAME_EXCHANGE
                flips += 1
            print(flips)
            """, Flipping + TimeSpan.FromSeconds(20));

        var statuses = new Dictionary<HttpStatusCode, int>();
        var clock = Stopwatch.StartNew();
        var round = 0;
        while (!flipper.IsCompleted && clock.Elapsed < Flipping + TimeSpan.FromSeconds(30))
        {
            round++;
            foreach (var response in new[]
            {
                await app.Client.GetAsync(Files(attacker.Id)),
                await UploadResponseAsync(attacker.Id, $"a/up-{round}.txt", "uploaded"),
                await UploadResponseAsync(attacker.Id, $"b/escape-{round}.txt", "escaped?"),
                await app.Client.GetAsync(Files(attacker.Id, "a/x.txt")),
                await app.Client.GetAsync(Files(attacker.Id, "b/canary.txt")),
                await app.Client.DeleteAsync(Files(attacker.Id, $"a/up-{round}.txt")),
                await app.Client.DeleteAsync(Files(attacker.Id, "b/canary.txt")),
            })
            {
                statuses[response.StatusCode] = statuses.GetValueOrDefault(response.StatusCode) + 1;
                Assert.True((int)response.StatusCode < 500, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                if (response.IsSuccessStatusCode && response.RequestMessage?.RequestUri?.AbsolutePath.EndsWith("canary.txt", StringComparison.Ordinal) == true
                    && response.RequestMessage.Method == HttpMethod.Get)
                {
                    Assert.Fail($"read a canary through the flipping link: {await response.Content.ReadAsStringAsync()}");
                }
                response.Dispose();
            }
        }
        var flipped = await flipper;

        Assert.True(flipped.Status == ExecutionStatus.Ok, $"{flipped.Error?.Name}: {flipped.Error?.Value}");
        Assert.True(long.Parse(flipped.Stdout.Trim()) > 1000, $"only {flipped.Stdout.Trim()} flips");
        Assert.True(round > 10, $"only {round} rounds of requests");
        Assert.Equal("neighbour's canary", await app.Client.GetStringAsync(Files(neighbour.Id, "canary.txt")));
        Assert.Equal(["canary.txt"], (await app.Service<IWorkspace>().ListAsync(neighbour.Id)).Select(f => f.Path));
        Assert.Equal("root canary", await File.ReadAllTextAsync(outsideCanary));
        Assert.Equal("beside canary", await File.ReadAllTextAsync(besideCanary));
        Assert.Equal(before, SnapshotOutsideMounts());
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/health/live")).StatusCode);
        File.Delete(besideCanary);
    }

    /// <summary>
    /// Every entry of the workspace root outside the workspaces' own file systems, with sizes (other
    /// test classes' roots sit beside it and change meanwhile; the canary beside it stands for those).
    /// </summary>
    private List<string> SnapshotOutsideMounts()
    {
        var mounts = WorkspaceMounts.Under(app.WorkspaceRoot).ToHashSet();
        return Directory.EnumerateFileSystemEntries(app.WorkspaceRoot, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Where(path => !mounts.Any(m => path == m || path.StartsWith(m + "/", StringComparison.Ordinal)))
            .Where(path => !path.StartsWith(Path.Combine(app.WorkspaceRoot, "volumes"), StringComparison.Ordinal))
            .Where(path => !path.StartsWith(Path.Combine(app.WorkspaceRoot, "sessions"), StringComparison.Ordinal))
            .Select(path => File.Exists(path) ? $"{path} {new FileInfo(path).Length}" : path)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private async Task UploadAsync(Guid sessionId, string path, string text)
    {
        using var response = await UploadResponseAsync(sessionId, path, text);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private async Task<HttpResponseMessage> UploadResponseAsync(Guid sessionId, string path, string text)
    {
        using var form = new MultipartFormDataContent();
        var folder = Path.GetDirectoryName(path)!.Replace('\\', '/');
        if (folder.Length > 0)
        {
            form.Add(new StringContent(folder), "folder");
        }
        var file = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(text));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        form.Add(file, "files", Path.GetFileName(path));
        return await app.Client.PostAsync(Files(sessionId), form);
    }

    private static string Files(Guid sessionId, string? path = null) =>
        path is null ? $"/api/v1/sessions/{sessionId}/files" : $"/api/v1/sessions/{sessionId}/files/{path}";
}
