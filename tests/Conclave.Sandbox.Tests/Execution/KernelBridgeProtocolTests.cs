using System.Text;
using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Execution;
using Docker.DotNet;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conclave.Sandbox.Tests.Execution;

/// <summary>The Host's end of the bridge protocol, fed the lines a bridge writes (no container needed).</summary>
public sealed class KernelBridgeProtocolTests
{
    private static KernelBridge BridgeReading(string lines) =>
        new(new MultiplexedStream(new MemoryStream(Encoding.UTF8.GetBytes(lines)), multiplexed: false), "test-bridge", NullLogger.Instance);

    [Fact]
    public async Task A_failed_kernel_start_reports_the_bridges_own_reason()
    {
        await using var bridge = BridgeReading(
            """{"hello":true,"limits":{"cgroup":"v2"}}""" + "\n"
            + """{"ready":false,"error":{"ename":"KernelStartFailed","evalue":"kernel failed to start: RuntimeError('kernel did not become ready')","traceback":""}}""" + "\n");

        var limits = await bridge.WaitHelloAsync(CancellationToken.None);
        var failed = await Assert.ThrowsAsync<SandboxUnavailableException>(() => bridge.WaitReadyAsync(CancellationToken.None));

        Assert.Equal("v2", limits.Cgroup);
        Assert.Contains("kernel failed to start: RuntimeError('kernel did not become ready')", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bridge_that_ends_before_saying_hello_is_reported_as_gone()
    {
        await using var bridge = BridgeReading("not json\n");

        var gone = await Assert.ThrowsAsync<SandboxUnavailableException>(() => bridge.WaitHelloAsync(CancellationToken.None));

        Assert.Contains("did not report its limits", gone.Message, StringComparison.Ordinal);
        Assert.True(bridge.IsClosed);
    }

    [Fact]
    public async Task A_line_longer_than_the_protocol_allows_ends_the_conversation_instead_of_growing()
    {
        var flood = new StringBuilder("{\"id\":\"1\",\"stdout\":\"");
        flood.Append('x', 17 * 1024 * 1024);
        await using var bridge = BridgeReading(flood.ToString());

        await Assert.ThrowsAsync<SandboxUnavailableException>(() => bridge.WaitHelloAsync(CancellationToken.None));
        Assert.True(bridge.IsClosed);
    }
}
