using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Workspaces;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Conclave.Sandbox.Tests.Workspaces;

/// <summary>
/// Several nodes on one workspace root (ADR 0015): a node starting up removes only its own leftovers,
/// never another node's volumes that no session names yet (its warm pool's).
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

    private WorkspaceVolumes Node(string nodeId)
    {
        var volumes = new WorkspaceVolumes(
            Options.Create(new SandboxOptions
            {
                NodeId = nodeId,
                WorkspaceRoot = _root,
                WorkspaceQuotaBytes = 1024 * 1024,
                WorkspaceMaxEntries = 200,
            }),
            NullLogger<WorkspaceVolumes>.Instance);
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
