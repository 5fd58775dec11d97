using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Workspaces;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Conclave.Sandbox.Tests.Workspaces;

/// <summary>
/// Path safety of the workspace API on a real workspace volume (its own file system, as the Host makes
/// it), with the links code could leave in it; no container needed.
/// </summary>
public sealed class WorkspacePathTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "conclave-workspace-tests", Guid.NewGuid().ToString("N"));
    private readonly string _outside;
    private readonly Guid _session = Guid.NewGuid();
    private readonly WorkspaceVolumes _volumes;
    private readonly WorkspaceFiles _files;
    private string _directory = "";

    public WorkspacePathTests()
    {
        var options = Options.Create(new SandboxOptions
        {
            WorkspaceRoot = Path.Combine(_root, "workspaces"),
            WorkspaceQuotaBytes = 1024 * 1024,
            WorkspaceMaxEntries = 200,
        });
        _volumes = new WorkspaceVolumes(options, NullLogger<WorkspaceVolumes>.Instance);
        _files = new WorkspaceFiles(_volumes, options);
        _outside = Path.Combine(_root, "outside");
    }

    public async Task InitializeAsync()
    {
        _directory = (await _volumes.EnsureAsync(_session, CancellationToken.None)).MountPath;
        File.WriteAllText(Path.Combine(_directory, "ok.txt"), "inside");
        Directory.CreateDirectory(_outside);
        File.WriteAllText(Path.Combine(_outside, "secret.txt"), "host secret");
        // What code in a sandbox could do: links pointing out of the workspace (and one that stays in).
        File.CreateSymbolicLink(Path.Combine(_directory, "passwd-link"), "/etc/passwd");
        File.CreateSymbolicLink(Path.Combine(_directory, "secret-link"), Path.Combine(_outside, "secret.txt"));
        Directory.CreateSymbolicLink(Path.Combine(_directory, "outside-dir"), _outside);
        Directory.CreateSymbolicLink(Path.Combine(_directory, "relative-escape"), "../../outside");
        File.CreateSymbolicLink(Path.Combine(_directory, "dangling"), Path.Combine(_outside, "not-yet.txt"));
        File.CreateSymbolicLink(Path.Combine(_directory, "inner-link"), "ok.txt");
        Directory.CreateSymbolicLink(Path.Combine(_directory, "loop"), "loop");
    }

    public static TheoryData<string> UnsafePaths() =>
    [
        "", " ", "..", "../x", "../../etc/passwd", "a/../../x", "a/../ok.txt", "./ok.txt", "a//b", "ok.txt/",
        "/etc/passwd", "/", "~/x", "C:/Windows/win.ini",
        "%2e%2e/etc/passwd", "%2e%2e%2fetc%2fpasswd", "..%2f..%2fetc%2fpasswd", "%252e%252e%252fetc%252fpasswd",
        "%2fetc%2fpasswd", "a%5c..%5c..%5cetc", "ok.txt%00.png",
        "..\\..\\etc\\passwd", "a\\b", "ok.txt\0.png", "new\nline",
        "passwd-link", "secret-link", "outside-dir/secret.txt", "outside-dir/new.txt", "relative-escape/secret.txt",
        "dangling/x", "inner-link", "loop/x",
    ];

    [Theory]
    [MemberData(nameof(UnsafePaths))]
    public async Task Unsafe_paths_are_rejected_and_nothing_outside_is_read_or_written(string path)
    {
        await Assert.ThrowsAsync<WorkspacePathException>(() => _files.OpenReadAsync(_session, path));
        var write = await Record.ExceptionAsync(() => _files.WriteAsync(_session, path, new MemoryStream("pwned"u8.ToArray())));

        // A write through a link may only ever replace the link itself, inside the workspace.
        Assert.True(write is WorkspacePathException || !path.Contains('/'), $"{path}: {write}");
        Assert.Equal(["secret.txt"], Directory.GetFiles(_outside).Select(Path.GetFileName));
        Assert.Equal("host secret", File.ReadAllText(Path.Combine(_outside, "secret.txt")));
        Assert.DoesNotContain("pwned", File.ReadAllText("/etc/passwd"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_symlink_is_never_followed_even_when_it_stays_inside()
    {
        var refused = await Assert.ThrowsAsync<WorkspacePathException>(() => _files.OpenReadAsync(_session, "inner-link"));

        Assert.Contains("symbolic link", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deleting_a_symlink_removes_the_link_not_its_target()
    {
        await _files.DeleteAsync(_session, "secret-link");
        await _files.DeleteAsync(_session, "outside-dir");

        Assert.False(File.Exists(Path.Combine(_directory, "secret-link")));
        Assert.Equal("host secret", File.ReadAllText(Path.Combine(_outside, "secret.txt")));
    }

    [Fact]
    public async Task Listing_shows_regular_files_and_skips_symlinks()
    {
        await _files.WriteAsync(_session, "data/table.csv", new MemoryStream("a,b\n1,2\n"u8.ToArray()));

        var listed = await _files.ListAsync(_session);

        Assert.Equal(["data/table.csv", "ok.txt"], listed.Select(f => f.Path));
        Assert.Equal(8, listed[0].SizeBytes);
    }

    [Fact]
    public async Task A_missing_file_is_reported_as_not_found()
    {
        await Assert.ThrowsAsync<WorkspaceFileNotFoundException>(() => _files.OpenReadAsync(_session, "nope.txt"));
        await Assert.ThrowsAsync<WorkspaceFileNotFoundException>(() => _files.DeleteAsync(_session, "nope.txt"));
        await Assert.ThrowsAsync<WorkspaceFileNotFoundException>(() => _files.OpenReadAsync(Guid.NewGuid(), "ok.txt"));
    }

    [Fact]
    public async Task A_write_over_the_quota_is_refused_and_leaves_nothing_behind()
    {
        var before = _volumes.Usage((await _volumes.FindAsync(_session, CancellationToken.None))!);
        var tooBig = new MemoryStream(new byte[2 * 1024 * 1024]);

        var refused = await Assert.ThrowsAsync<WorkspaceQuotaExceededException>(() => _files.WriteAsync(_session, "big.bin", tooBig));

        Assert.Equal(1024 * 1024, refused.QuotaBytes);
        Assert.False(File.Exists(Path.Combine(_directory, "big.bin")));
        Assert.Empty(Directory.GetFiles(_directory, ".conclave-upload-*"));
        Assert.Equal(before, _volumes.Usage((await _volumes.FindAsync(_session, CancellationToken.None))!));
    }

    [Fact]
    public async Task Replacing_a_file_counts_only_the_difference_against_the_quota()
    {
        await _files.WriteAsync(_session, "half.bin", new MemoryStream(new byte[600 * 1024]));

        var replaced = await _files.WriteAsync(_session, "half.bin", new MemoryStream(new byte[700 * 1024]));

        Assert.Equal(700 * 1024, replaced.SizeBytes);
    }

    [Fact]
    public async Task The_file_system_holds_the_entries_quota_whatever_writes()
    {
        var created = 0;
        WorkspaceQuotaExceededException? full = null;
        for (var i = 0; i < 1000 && full is null; i++)
        {
            try
            {
                await _files.WriteAsync(_session, $"many/{i}.txt", new MemoryStream([]));
                created++;
            }
            catch (WorkspaceQuotaExceededException e)
            {
                full = e;
            }
        }

        Assert.NotNull(full);
        Assert.InRange(created, 150, 200);
        Assert.Contains("ok.txt", (await _files.ListAsync(_session)).Select(f => f.Path));
    }

    public async Task DisposeAsync()
    {
        await _volumes.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }
}
