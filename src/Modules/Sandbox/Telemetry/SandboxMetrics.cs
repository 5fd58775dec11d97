using System.Diagnostics.Metrics;

namespace Conclave.Sandbox.Telemetry;

/// <summary>The module's instruments, on the meter <c>Conclave.Sandbox</c>.</summary>
internal sealed class SandboxMetrics
{
    public const string MeterName = "Conclave.Sandbox";

    private readonly Counter<long> _executions;
    private readonly Counter<long> _failures;
    private readonly Counter<long> _timeouts;
    private readonly Counter<long> _containersStarted;
    private readonly Counter<long> _containersReaped;
    private readonly Counter<long> _containerStartFailures;
    private readonly Histogram<double> _executionDuration;

    public SandboxMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _executions = meter.CreateCounter<long>("conclave.sandbox.executions", description: "Executions finished (any status).");
        _failures = meter.CreateCounter<long>("conclave.sandbox.execution.failures", description: "Executions that ended in an error, kernel death or quota breach.");
        _timeouts = meter.CreateCounter<long>("conclave.sandbox.execution.timeouts", description: "Executions interrupted by their time limit.");
        _containersStarted = meter.CreateCounter<long>("conclave.sandbox.containers.started", description: "Sandbox containers started, by path (warm pool or cold).");
        _containersReaped = meter.CreateCounter<long>("conclave.sandbox.containers.reaped", description: "Containers removed by the janitor, by reason (idle, orphan, dead).");
        _containerStartFailures = meter.CreateCounter<long>(
            "conclave.sandbox.containers.start_failures", description: "Sandbox containers that could not be started, by path (warm, cold).");
        _executionDuration = meter.CreateHistogram<double>("conclave.sandbox.execution.duration", unit: "ms", description: "Wall time of executions as seen by the Host.");

        // Failure counters exist at zero from the start: increase() sees a first failure only against an earlier sample
        // (the start-failure alert would miss it), and a dashboard shows 0 rather than "no data".
        _timeouts.Add(0);
        foreach (var status in (string[])["error", "cancelled"])
        {
            _failures.Add(0, new KeyValuePair<string, object?>("status", status));
        }

        foreach (var path in (string[])["warm", "cold"])
        {
            _containerStartFailures.Add(0, new KeyValuePair<string, object?>("path", path));
        }

        foreach (var reason in (string[])["idle", "orphan", "dead"])
        {
            _containersReaped.Add(0, new KeyValuePair<string, object?>("reason", reason));
        }
    }

    public void ExecutionFinished(string status, double milliseconds)
    {
        var tag = new KeyValuePair<string, object?>("status", status);
        _executions.Add(1, tag);
        _executionDuration.Record(milliseconds, tag);
        if (status == "timeout")
        {
            _timeouts.Add(1);
        }
        else if (status != "ok")
        {
            _failures.Add(1, tag);
        }
    }

    public void ContainerStarted(string path) => _containersStarted.Add(1, new KeyValuePair<string, object?>("path", path));

    public void ContainerStartFailed(string path) => _containerStartFailures.Add(1, new KeyValuePair<string, object?>("path", path));

    public void ContainerReaped(string reason) => _containersReaped.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
