using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Workspaces;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Conclave.Sandbox.Tests.Workspaces;

/// <summary>Path safety of the workspace API on a real folder; no container needed.</summary>
public sealed class WorkspacePathTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "conclave-workspace-tests", Guid.NewGuid().ToString("N"));
    private readonly string outside;
    private readonly Guid session = Guid.NewGuid();
    private readonly WorkspaceFolders folders;
    private readonly WorkspaceFiles files;

    public WorkspacePathTests()
    {
        var options = Options.Create(new SandboxOptions { WorkspaceRoot = Path.Combine(root, "workspaces"), WorkspaceQuotaBytes = 1024 * 1024 });
        folders = new WorkspaceFolders(options, NullLogger<WorkspaceFolders>.Instance);
        files = new WorkspaceFiles(folders, options);
        var directory = folders.EnsureSessionDirectory(session);
        File.WriteAllText(Path.Combine(directory, "ok.txt"), "inside");
        outside = Path.Combine(root, "outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "secret.txt"), "host secret");
        // What code in a sandbox could do: links pointing out of the workspace (and one that stays in).
        File.CreateSymbolicLink(Path.Combine(directory, "passwd-link"), "/etc/passwd");
        File.CreateSymbolicLink(Path.Combine(directory, "secret-link"), Path.Combine(outside, "secret.txt"));
        Directory.CreateSymbolicLink(Path.Combine(directory, "outside-dir"), outside);
        Directory.CreateSymbolicLink(Path.Combine(directory, "relative-escape"), "../../outside");
        File.CreateSymbolicLink(Path.Combine(directory, "dangling"), Path.Combine(outside, "not-yet.txt"));
        File.CreateSymbolicLink(Path.Combine(directory, "inner-link"), "ok.txt");
    }

    public static TheoryData<string> UnsafePaths() =>
    [
        "", " ", "..", "../x", "../../etc/passwd", "a/../../x", "a/../ok.txt", "./ok.txt", "a//b", "ok.txt/",
        "/etc/passwd", "/", "~/x", "C:/Windows/win.ini",
        "%2e%2e/etc/passwd", "%2e%2e%2fetc%2fpasswd", "..%2f..%2fetc%2fpasswd", "%252e%252e%252fetc%252fpasswd",
        "%2fetc%2fpasswd", "a%5c..%5c..%5cetc", "ok.txt%00.png",
        "..\\..\\etc\\passwd", "a\\b", "ok.txt\0.png", "new\nline",
        "passwd-link", "secret-link", "outside-dir/secret.txt", "outside-dir/new.txt", "relative-escape/secret.txt",
        "dangling", "dangling/x",
    ];

    [Theory]
    [MemberData(nameof(UnsafePaths))]
    public async Task Unsafe_paths_are_rejected_and_nothing_is_read_or_written(string path)
    {
        await Assert.ThrowsAsync<WorkspacePathException>(() => files.OpenReadAsync(session, path));
        await Assert.ThrowsAsync<WorkspacePathException>(() => files.WriteAsync(session, path, new MemoryStream("pwned"u8.ToArray())));

        Assert.Equal(["secret.txt"], Directory.GetFiles(outside).Select(Path.GetFileName));
        Assert.Equal("host secret", File.ReadAllText(Path.Combine(outside, "secret.txt")));
        Assert.Empty(Directory.GetFiles(folders.StagingRoot));
    }

    [Fact]
    public async Task A_symlink_that_stays_inside_the_workspace_can_be_read()
    {
        await using var stream = await files.OpenReadAsync(session, "inner-link");

        Assert.Equal("inside", await new StreamReader(stream).ReadToEndAsync());
    }

    [Fact]
    public async Task Deleting_a_symlink_removes_the_link_not_its_target()
    {
        await files.DeleteAsync(session, "secret-link");
        await files.DeleteAsync(session, "outside-dir");

        Assert.False(File.Exists(Path.Combine(folders.SessionDirectory(session), "secret-link")));
        Assert.Equal("host secret", File.ReadAllText(Path.Combine(outside, "secret.txt")));
    }

    [Fact]
    public async Task Listing_shows_regular_files_and_skips_symlinks()
    {
        await files.WriteAsync(session, "data/table.csv", new MemoryStream("a,b\n1,2\n"u8.ToArray()));

        var listed = await files.ListAsync(session);

        Assert.Equal(["data/table.csv", "ok.txt"], listed.Select(f => f.Path));
        Assert.Equal(8, listed[0].SizeBytes);
    }

    [Fact]
    public async Task A_missing_file_is_reported_as_not_found()
    {
        await Assert.ThrowsAsync<WorkspaceFileNotFoundException>(() => files.OpenReadAsync(session, "nope.txt"));
        await Assert.ThrowsAsync<WorkspaceFileNotFoundException>(() => files.DeleteAsync(session, "nope.txt"));
        await Assert.ThrowsAsync<WorkspaceFileNotFoundException>(() => files.OpenReadAsync(Guid.NewGuid(), "ok.txt"));
    }

    [Fact]
    public async Task A_write_over_the_quota_is_refused_and_leaves_nothing_behind()
    {
        var tooBig = new MemoryStream(new byte[2 * 1024 * 1024]);

        var refused = await Assert.ThrowsAsync<WorkspaceQuotaExceededException>(() => files.WriteAsync(session, "big.bin", tooBig));

        Assert.Equal(1024 * 1024, refused.QuotaBytes);
        Assert.False(File.Exists(Path.Combine(folders.SessionDirectory(session), "big.bin")));
        Assert.Empty(Directory.GetFiles(folders.StagingRoot));
    }

    [Fact]
    public async Task Replacing_a_file_counts_only_the_difference_against_the_quota()
    {
        await files.WriteAsync(session, "half.bin", new MemoryStream(new byte[600 * 1024]));

        var replaced = await files.WriteAsync(session, "half.bin", new MemoryStream(new byte[700 * 1024]));

        Assert.Equal(700 * 1024, replaced.SizeBytes);
    }

    public void Dispose() => Directory.Delete(root, recursive: true);
}
