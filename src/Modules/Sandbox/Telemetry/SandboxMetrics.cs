using System.Diagnostics.Metrics;

namespace Conclave.Sandbox.Telemetry;

/// <summary>The module's instruments, on the meter <c>Conclave.Sandbox</c>.</summary>
internal sealed class SandboxMetrics
{
    public const string MeterName = "Conclave.Sandbox";

    private readonly Counter<long> executions;
    private readonly Counter<long> failures;
    private readonly Counter<long> timeouts;
    private readonly Counter<long> containersStarted;
    private readonly Counter<long> containersReaped;
    private readonly Histogram<double> executionDuration;

    public SandboxMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        executions = meter.CreateCounter<long>("conclave.sandbox.executions", description: "Executions finished (any status).");
        failures = meter.CreateCounter<long>("conclave.sandbox.execution.failures", description: "Executions that ended in an error, kernel death or quota breach.");
        timeouts = meter.CreateCounter<long>("conclave.sandbox.execution.timeouts", description: "Executions interrupted by their time limit.");
        containersStarted = meter.CreateCounter<long>("conclave.sandbox.containers.started", description: "Sandbox containers started, by path (warm pool or cold).");
        containersReaped = meter.CreateCounter<long>("conclave.sandbox.containers.reaped", description: "Containers removed by the janitor, by reason (idle, orphan, dead).");
        executionDuration = meter.CreateHistogram<double>("conclave.sandbox.execution.duration", unit: "ms", description: "Wall time of executions as seen by the Host.");
    }

    public void ExecutionFinished(string status, double milliseconds)
    {
        var tag = new KeyValuePair<string, object?>("status", status);
        executions.Add(1, tag);
        executionDuration.Record(milliseconds, tag);
        if (status == "timeout")
        {
            timeouts.Add(1);
        }
        else if (status != "ok")
        {
            failures.Add(1, tag);
        }
    }

    public void ContainerStarted(string path) => containersStarted.Add(1, new KeyValuePair<string, object?>("path", path));

    public void ContainerReaped(string reason) => containersReaped.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
