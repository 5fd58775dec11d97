using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Conclave.Host.Composition.Observability;

/// <summary>
/// OpenTelemetry for the whole Host (ADR 0013): every Conclave module's meter and ActivitySource (named
/// <c>Conclave.&lt;Module&gt;</c>), ASP.NET Core, HttpClient, Wolverine and the runtime. Metrics are read by
/// Prometheus at <c>/metrics</c>, on the public port behind a scrape token or on a port of their own
/// (<see cref="MetricsOptions"/>), and pushed over OTLP when an endpoint is set; so are traces. Log lines
/// carry the trace and span ids of the activity they were written in.
/// </summary>
internal static class ObservabilityExtensions
{
    /// <summary>Every module's meter and ActivitySource: <c>Conclave.Agents</c>, <c>Conclave.Sessions</c>, ...</summary>
    public const string ConclaveSources = "Conclave.*";

    /// <summary>Wolverine's meter is <c>Wolverine:&lt;service name&gt;</c> (the Host's assembly name unless configured).</summary>
    public const string WolverineMeters = "Wolverine:*";

    /// <summary>
    /// Of Wolverine's instruments, the durable queue depth only: envelopes persisted in the inbox, the outbox and the
    /// scheduled store, counted in PostgreSQL by Wolverine every 5 s (so every node reports the installation's figure;
    /// Prometheus names them <c>wolverine_inbox_count_Messages</c>, ...). Its per-message counters and timings, tagged
    /// by message type and destination, add series without adding an answer our own figures do not give.
    /// </summary>
    private static readonly HashSet<string> WolverineInstruments = ["wolverine-inbox-count", "wolverine-outbox-count", "wolverine-scheduled-count"];

    public static WebApplicationBuilder AddObservability(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<MetricsOptions>, MetricsOptionsValidator>();
        builder.Services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<TelemetryOptions>, TelemetryOptionsValidator>();
        builder.Logging.Configure(o => o.ActivityTrackingOptions =
            ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);

        // Read here, not through IOptions: which exporters exist is decided while the services are composed.
        var metrics = builder.Configuration.GetSection(MetricsOptions.Section).Get<MetricsOptions>() ?? new MetricsOptions();
        var telemetry = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        if (!telemetry.Enabled)
        {
            if (metrics.ServedOnPublicPort || metrics.Port is not null)
            {
                throw new InvalidOperationException(
                    $"{TelemetryOptions.Section}:Enabled is false, so nothing would serve the metrics {MetricsOptions.Section} asks for: remove one of the two.");
            }

            return builder;
        }

        var otlp = telemetry.OtlpEndpoint;

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("conclave", serviceInstanceId: Environment.MachineName))
            .WithMetrics(meters =>
            {
                meters.AddMeter(ConclaveSources, WolverineMeters)
                    .AddView(instrument => instrument.Meter.Name.StartsWith("Wolverine", StringComparison.Ordinal) && !WolverineInstruments.Contains(instrument.Name)
                        ? MetricStreamConfiguration.Drop
                        : null)
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddView("gen_ai.client.token.usage", new ExplicitBucketHistogramConfiguration
                    {
                        // The GenAI conventions' advice: powers of four from 1 to 4^11 tokens.
                        Boundaries = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304],
                    })
                    .AddView("gen_ai.client.operation.duration", new ExplicitBucketHistogramConfiguration
                    {
                        Boundaries = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92],
                    })
                    .AddView("conclave.live.feed.lag", new ExplicitBucketHistogramConfiguration
                    {
                        // Seconds: a healthy feed delivers in milliseconds; seconds mean a stalled node or a slow client.
                        Boundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
                    });
                if (metrics.ServedOnPublicPort)
                {
                    // No cached answer: a scrape right after a run sees it (a scrape costs little, Prometheus comes every 15 s).
                    meters.AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
                }

                if (metrics.Port is { } port)
                {
                    // Every interface (in a container, Prometheus comes from the compose network); the port is not published.
                    meters.AddPrometheusHttpListener(o =>
                    {
                        o.Port = port;
                        o.ScrapeResponseCacheDurationMilliseconds = 0;
                        // Host takes a name only ("*" is no URI): the listener gets the every-address prefix itself.
                        o.ConfigureHttpListener = (_, listener) =>
                        {
                            listener.Prefixes.Clear();
                            listener.Prefixes.Add($"http://+:{port}/");
                        };
                    });
                }

                if (otlp is not null)
                {
                    meters.AddOtlpExporter(o => o.Endpoint = otlp);
                }
            })
            .WithTracing(traces =>
            {
                traces.AddSource(ConclaveSources, "Wolverine")
                    .AddAspNetCoreInstrumentation(o => o.Filter = context =>
                        !context.Request.Path.StartsWithSegments("/metrics") && !context.Request.Path.StartsWithSegments("/health"))
                    .AddHttpClientInstrumentation();
                if (otlp is not null)
                {
                    traces.AddOtlpExporter(o => o.Endpoint = otlp);
                }
            });
        return builder;
    }

    /// <summary><c>/metrics</c> on the public port, only with a scrape token; without one, not served (404).</summary>
    public static WebApplication MapObservability(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value;
        if (options.ServedOnPublicPort)
        {
            app.UseOpenTelemetryPrometheusScrapingEndpoint(
                meterProvider: null,
                predicate: context => context.Request.Path == "/metrics",
                path: null,
                configureBranchedPipeline: branch => branch.Use(ScrapeToken.Require(options.ScrapeToken!)),
                optionsName: null);
        }

        return app;
    }
}
