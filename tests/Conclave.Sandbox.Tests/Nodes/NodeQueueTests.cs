using System.Text.RegularExpressions;
using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Nodes;

namespace Conclave.Sandbox.Tests.Nodes;

/// <summary>Each node's queue is a table of Wolverine's PostgreSQL transport: its name must be a short SQL identifier, one per node id.</summary>
public sealed partial class NodeQueueTests
{
    [Theory]
    [InlineData("web-1")]
    [InlineData("Web-1")]
    [InlineData("web_1")]
    [InlineData("a-very-long-machine-name.with.dots.example.internal")]
    [InlineData("ünïcødé node")]
    public void A_node_queue_name_is_a_short_lower_case_identifier(string nodeId)
    {
        var name = NodeQueue.Name(nodeId);

        Assert.Matches(Identifier(), name);
        // Wolverine prefixes "wolverine_queue_" and may add "_scheduled": within PostgreSQL's 63 characters.
        Assert.True(name.Length <= 36, name);
        Assert.Equal($"postgresql://{name}", NodeQueue.Address(nodeId).ToString().TrimEnd('/'));
    }

    [Fact]
    public void Node_ids_that_read_alike_get_different_queues()
    {
        string[] ids = ["web-1", "Web-1", "web_1", "web.1", "a-very-long-machine-name-1", "a-very-long-machine-name-2"];

        Assert.Equal(ids.Length, ids.Select(NodeQueue.Name).Distinct().Count());
    }

    [Fact]
    public void A_node_timeout_shorter_than_two_heartbeats_is_refused()
    {
        var options = new SandboxOptions
        {
            WorkspaceRoot = "/tmp/conclave-node-queue-tests",
            NodeHeartbeatInterval = TimeSpan.FromSeconds(5),
            NodeTimeout = TimeSpan.FromSeconds(6),
        };

        var result = new SandboxOptionsValidator().Validate(null, options);

        Assert.Contains(result.Failures ?? [], f => f.Contains("NodeTimeout", StringComparison.Ordinal));
    }

    [GeneratedRegex("^[a-z][a-z0-9_]*$")]
    private static partial Regex Identifier();
}
