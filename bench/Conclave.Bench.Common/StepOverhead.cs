using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Conclave.Bench.Common;

/// <summary>
/// The orchestrator's own time per persisted step (the Agents meter's <c>conclave.run.step.overhead</c>), as every
/// Host in this process records it from now until disposed. Meters are process-wide: a bench that wants one Host's
/// figures runs that Host alone.
/// </summary>
public sealed class StepOverhead : IEnumerable<double>, IDisposable
{
    private readonly ConcurrentBag<double> _samples = [];
    private readonly MeterListener _listener;

    public StepOverhead()
    {
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "Conclave.Agents" && instrument.Name == "conclave.run.step.overhead")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<double>((_, value, _, _) => _samples.Add(value));
        _listener.Start();
    }

    /// <summary>Forgets what was recorded so far.</summary>
    public void Clear() => _samples.Clear();

    public IEnumerator<double> GetEnumerator() => _samples.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public void Dispose() => _listener.Dispose();
}
