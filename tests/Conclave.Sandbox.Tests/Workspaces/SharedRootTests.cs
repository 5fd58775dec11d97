using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Workspaces;
using Conclave.Sandbox.Workspaces.Native;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Conclave.Sandbox.Tests.Workspaces;

/// <summary>
/// Several nodes on one workspace root (ADR 0015): a node starting up removes only its own leftovers,
/// never another node's volumes that no session names yet (its warm pool's); and an image is never mounted twice.
/// </summary>
public sealed class SharedRootTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "conclave-shared-root-tests", Guid.NewGuid().ToString("N"));
    private readonly List<WorkspaceVolumes> _nodes = [];

    [Fact]
    public async Task A_node_starting_up_removes_its_own_unnamed_volumes_and_leaves_another_nodes_alone()
    {
        var nodeA = Node("node-a");
        var warmOfA = await nodeA.CreateUnassignedAsync(CancellationToken.None);
        var leftOfB = await Node("node-b").CreateUnassignedAsync(CancellationToken.None);

        var restartedB = Node("node-b");
        await restartedB.RecoveredAsync(CancellationToken.None);

        Assert.True(Directory.Exists(warmOfA.MountPath), "node B's start-up removed node A's warm volume");
        Assert.False(Directory.Exists(leftOfB.MountPath), "node B's start-up kept its previous process's leftover");
    }

    [Fact]
    public async Task An_image_detached_while_a_container_holds_it_is_mounted_again_as_the_same_file_system()
    {
        var holder = Node("node-a");
        var session = Guid.NewGuid();
        var volume = await holder.EnsureAsync(session, CancellationToken.None);
        // What a container's bind does: the file system stays alive after its mount point is detached, as a node that
        // lost the session detaches it under the new holder, who had taken that mount on.
        using var kept = LinuxFiles.Open(volume.MountPath, LinuxFiles.OPath | LinuxFiles.ODirectory);
        LoopMounts.Unmount(volume.MountPath);

        var files = new WorkspaceFiles(holder, Options("node-a"));
        await files.WriteAsync(session, "after.txt", new MemoryStream("after"u8.ToArray()));

        // Mounted again through the loop device that still carries the live file system: one ext4 instance, which
        // sees at once what the new mount wrote. A second loop device would be a second instance on the same image.
        var image = Path.Join(_root, "volumes", volume.Id + ".img");
        Assert.Single(Directory.EnumerateDirectories("/sys/block", "loop*"),
            device => File.Exists(Path.Join(device, "loop", "backing_file")) && File.ReadAllText(Path.Join(device, "loop", "backing_file")).TrimEnd('\n') == image);
        Assert.True(LinuxFiles.StatAt(kept, "after.txt").IsRegularFile);
    }

    private IOptions<SandboxOptions> Options(string nodeId) => Microsoft.Extensions.Options.Options.Create(new SandboxOptions
    {
        NodeId = nodeId,
        WorkspaceRoot = _root,
        WorkspaceQuotaBytes = 1024 * 1024,
        WorkspaceMaxEntries = 200,
    });

    private WorkspaceVolumes Node(string nodeId)
    {
        var volumes = new WorkspaceVolumes(Options(nodeId), NullLogger<WorkspaceVolumes>.Instance);
        _nodes.Add(volumes);
        return volumes;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        // A node's disposal unmounts what it mounted; what is left is plain files.
        Conclave.Testing.WorkspaceMounts.DeleteRoot(_root);
    }
}
