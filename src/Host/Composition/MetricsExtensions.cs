using Prometheus;

namespace Conclave.Host.Composition;

/// <summary>
/// Every System.Diagnostics.Metrics meter (Conclave.Agents, Conclave.Sandbox, ASP.NET Core, the runtime) in
/// Prometheus' format at <c>/metrics</c> on a port of its own, only when <c>Conclave:Metrics:Port</c> is set:
/// never on the public port, so only what can reach that port (a Prometheus beside it) reads them.
/// </summary>
internal static class MetricsExtensions
{
    public static WebApplicationBuilder AddMetricsPort(this WebApplicationBuilder builder)
    {
        if (builder.Configuration.GetValue<ushort?>("Conclave:Metrics:Port") is { } port)
        {
            // prometheus-net starts its own meter listener only at the first scrape, and what was measured before
            // is lost (a counter's increments are not kept): listen from the start instead, for the process' lifetime
            // (the registry keeps the adapter).
            Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressMeters = true });
            _ = MeterAdapter.StartListening();
            builder.Services.AddMetricServer(options => options.Port = port);
        }
        return builder;
    }
}
