using System.Diagnostics;
using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Tests.Fixtures;
using Conclave.Testing;

namespace Conclave.Sandbox.Tests.Workspaces;

/// <summary>
/// A workspace as hostile code leaves it (FIFOs, sockets, device links, loops, deep chains, writers that
/// outlive their execution, unreadable folders, floods of entries): the Host answers at once, stays
/// bounded, and the quota holds without deleting anything the user had.
/// </summary>
public sealed class HostileWorkspaceTests(SandboxFixture fixture) : SandboxTest(fixture)
{
    private static readonly TimeSpan AtOnce = TimeSpan.FromSeconds(2);

    [DockerFact]
    public async Task A_fifo_a_socket_and_a_device_link_are_refused_at_once()
    {
        var session = NewSession();
        await RunOk(session, """
            import os, socket
            os.mkfifo('pipe')
            s = socket.socket(socket.AF_UNIX)
            s.bind('sock')
            os.symlink('/dev/zero', 'zero')
            """);

        foreach (var (path, kind) in new[] { ("pipe", "FIFO"), ("sock", "socket"), ("zero", "symbolic link") })
        {
            var clock = Stopwatch.StartNew();
            var refused = await Assert.ThrowsAsync<WorkspacePathException>(() => Fixture.Workspace.OpenReadAsync(session, path).WaitAsync(AtOnce));
            Assert.Contains(kind, refused.Message, StringComparison.Ordinal);
            var tool = await Fixture.Tools.ReadFileAsync(session, path).WaitAsync(AtOnce);
            Assert.StartsWith("error:", tool);
            Assert.True(clock.Elapsed < AtOnce, $"{path} took {clock.Elapsed}");
        }
    }

    [DockerFact]
    public async Task A_run_blocked_reading_a_fifo_can_be_stopped()
    {
        var session = NewSession();
        await RunOk(session, "import os\nos.mkfifo('pipe')");
        using var stop = new CancellationTokenSource();

        var blocked = Run(session, "open('pipe').read()", ct: stop.Token);
        await Eventually.Until(() => Fixture.Sessions.Active.Any(a => a.SessionId == session), TimeSpan.FromSeconds(30), "the execution to start");
        var clock = Stopwatch.StartNew();
        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"stopping took {clock.Elapsed}");
        Assert.Equal("2", (await RunOk(session, "1 + 1")).Result);
    }

    [DockerFact]
    public async Task A_symlink_loop_and_a_deep_folder_chain_leave_listing_bounded()
    {
        var session = NewSession();
        await RunOk(session, """
            import os
            os.symlink('loop', 'loop')
            os.symlink('.', 'self')
            os.makedirs('a/b')
            os.symlink('..', 'a/b/up')
            fd = os.open('.', os.O_RDONLY)
            for i in range(10_000):
                os.mkdir('d', dir_fd=fd)
                next_fd = os.open('d', os.O_RDONLY, dir_fd=fd)
                os.close(fd)
                fd = next_fd
            with open('deepest.txt', 'w', opener=lambda p, f: os.open(p, f, dir_fd=fd)) as f:
                f.write('bottom')
            open('top.txt', 'w').write('top')
            """);

        var clock = Stopwatch.StartNew();
        var listed = await Fixture.Workspace.ListAsync(session);

        Assert.True(clock.Elapsed < AtOnce, $"listing took {clock.Elapsed}");
        Assert.Equal(["top.txt"], listed.Select(f => f.Path));
        await Fixture.Workspace.DeleteAsync(session, "top.txt");
        Assert.Empty(await Fixture.Workspace.ListAsync(session));
    }

    [DockerFact]
    public async Task A_writer_left_running_an_unreadable_folder_and_a_flood_of_entries_stay_within_the_quota()
    {
        var session = NewSession();
        await Fixture.Workspace.WriteAsync(session, "keep/upload.csv", new MemoryStream("a,b\n1,2\n"u8.ToArray()));

        // The execution returns while its thread goes on writing, into a folder the Host may not read. The thread
        // starts writing once the test has put 'go' in the workspace, after the execution returned: had it filled
        // the quota first, the execution itself would end QuotaExceeded (seen once under a full run's load).
        await RunOk(session, """
            import os, threading, time
            os.makedirs('hidden')
            def writer():
                while not os.path.exists('go'):
                    time.sleep(0.01)
                chunk = b'\1' * 1_000_000
                i = 0
                while True:
                    try:
                        with open(f'hidden/{i}.bin', 'wb') as f:
                            f.write(chunk)
                        i += 1
                    except OSError:
                        break
            threading.Thread(target=writer, daemon=True).start()
            os.chmod('hidden', 0o333)
            """);
        await Fixture.Workspace.WriteAsync(session, "go", new MemoryStream("1"u8.ToArray()));
        var flood = await Run(session, """
            import os
            os.makedirs('flood', exist_ok=True)
            made = 0
            try:
                for i in range(100_000):
                    open(f'flood/{i}', 'w').close()
                    made += 1
            except OSError as e:
                print('stopped after', made, 'entries:', e.strerror)
            """, TimeSpan.FromSeconds(55));
        var usage = Fixture.Volumes.Usage((await Fixture.Volumes.FindAsync(session, CancellationToken.None))!);

        Assert.Contains("No space left on device", flood.Stdout, StringComparison.Ordinal);
        Assert.True(usage.UsedBytes <= SandboxFixture.QuotaBytes + Fixture.QuotaSlackBytes, $"{usage.UsedBytes} bytes used");
        Assert.True(usage.UsedEntries <= usage.QuotaEntries + 16, $"{usage.UsedEntries} entries used");
        await using var upload = await Fixture.Workspace.OpenReadAsync(session, "keep/upload.csv");
        Assert.Equal("a,b\n1,2\n", await new StreamReader(upload).ReadToEndAsync());
        await Assert.ThrowsAsync<WorkspaceQuotaExceededException>(() =>
            Fixture.Workspace.WriteAsync(session, "late.txt", new MemoryStream(new byte[1024 * 1024])));
    }
}
