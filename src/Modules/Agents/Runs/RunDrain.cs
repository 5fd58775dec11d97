using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conclave.Agents.Runs;

/// <summary>
/// A node that stops hands its runs on (ADR 0015): the application's stopping token cancels every run
/// executing here, each leaves its lease stale and marked handed on, and another node's reaper queues
/// it again from its last step. This waits, within the Host's shutdown timeout
/// (<c>Conclave:Node:DrainTimeout</c>), until the runs have let go, before messaging and the database go.
/// </summary>
internal sealed class RunDrain(ActiveRuns active, ILogger<RunDrain> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await active.WaitUntilIdleAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Their leases go stale on their own: the reaper hands them on, only later.
            logger.LogWarning("Runs still executing when the drain timeout ran out; the reaper will hand them on once their leases go stale");
        }
    }
}
