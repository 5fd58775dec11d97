using System.Diagnostics;
using Conclave.Bench.Common;
using Conclave.Sandbox.Contracts;
using Conclave.Testing.Host;

namespace Conclave.Bench.Spine;

/// <summary>
/// What a tool call pays when its run is on another node than the session's sandbox (ADR 0015): run_python's
/// <c>print(1)</c> from node B into the sandbox node A holds (a call on A's PostgreSQL queue, woken by NOTIFY, and
/// the answer on B's) against the same call on A itself; one at a time, alternately, on a warm kernel.
/// </summary>
internal static class SandboxHopBench
{
    private const string Code = "print(1)";

    public static async Task<IReadOnlyList<Figure>> RunAsync(ConclaveApp nodeA, ConclaveApp nodeB, int warmup, int calls)
    {
        var session = await nodeA.CreateSessionAsync("sandbox hop");
        var onA = nodeA.Service<ISandboxTools>();
        var onB = nodeB.Service<ISandboxTools>();
        // The first call places the session on A and starts its container (a cold start, not measured); B's must reach it.
        const string Where = "import socket\nprint(socket.gethostname())";
        var holder = await onA.RunPythonAsync(session.Id, Where);
        var fromB = await onB.RunPythonAsync(session.Id, Where);
        if (holder != fromB)
        {
            throw new InvalidOperationException($"Node B's call did not reach node A's sandbox:\n{holder}\n{fromB}");
        }

        var local = new List<double>();
        var routed = new List<double>();
        for (var n = 0; n < warmup + calls; n++)
        {
            var here = await TimedAsync(onA, session.Id);
            var there = await TimedAsync(onB, session.Id);
            if (n >= warmup)
            {
                local.Add(here);
                routed.Add(there);
            }
        }

        await nodeA.Service<ISandbox>().StopAsync(session.Id);
        return
        [
            Figure.Of($"run_python {Code} on the node holding the session's sandbox", local, "ms", Target.None),
            Figure.Of("  the same from another node: its queue on PostgreSQL and back", routed, "ms", Target.None),
            Figure.Single("  what the hop adds at the median", Percentiles.Of(routed, 50) - Percentiles.Of(local, 50), "ms", Target.None),
        ];
    }

    private static async Task<double> TimedAsync(ISandboxTools tools, Guid sessionId)
    {
        var started = Stopwatch.GetTimestamp();
        var answer = await tools.RunPythonWithOutputsAsync(sessionId, Code);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (answer.Failed || !answer.Text.Contains("[stdout]\n1\n", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"run_python failed: {answer.Text}");
        }

        return elapsed;
    }
}
