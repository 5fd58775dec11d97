using System.Diagnostics;
using System.Net.Http.Headers;
using Conclave.Testing.Host;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;

namespace Conclave.Host.Tests.Observability;

/// <summary>
/// A Host on a loopback port (a Prometheus process scrapes it), whose <c>/metrics</c> takes a scrape token, whose spans
/// an in-memory exporter collects, and whose log lines are kept.
/// </summary>
public sealed class ObservedApp : ConclaveApp
{
    public ObservedApp()
        : base(kestrel: true)
    {
    }

    public const string ScrapeToken = "scrape-token-for-tests-2f9c41d07a";

    public SpanList Spans { get; } = new();

    public CapturedLogs Logs { get; } = new();

    protected override void AddSettings(IDictionary<string, string> settings) =>
        settings["Conclave:Metrics:ScrapeToken"] = ScrapeToken;

    protected override void ConfigureHost(IWebHostBuilder builder)
    {
        builder.ConfigureServices(services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(Spans)));
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
    }

    /// <summary>What Prometheus would read, with the token.</summary>
    public async Task<string> ScrapeAsync()
    {
        using var client = CreateAnonymousClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ScrapeToken);
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }
}

/// <summary>The in-memory exporter's list, safe to read while the Host adds to it.</summary>
public sealed class SpanList : ICollection<Activity>
{
    private readonly List<Activity> _spans = [];

    public int Count
    {
        get
        {
            lock (_spans)
            {
                return _spans.Count;
            }
        }
    }

    public bool IsReadOnly => false;

    public IReadOnlyList<Activity> Snapshot()
    {
        lock (_spans)
        {
            return [.. _spans];
        }
    }

    public void Add(Activity item)
    {
        lock (_spans)
        {
            _spans.Add(item);
        }
    }

    public void Clear()
    {
        lock (_spans)
        {
            _spans.Clear();
        }
    }

    public bool Contains(Activity item) => Snapshot().Contains(item);

    public void CopyTo(Activity[] array, int arrayIndex) => Snapshot().ToList().CopyTo(array, arrayIndex);

    public bool Remove(Activity item)
    {
        lock (_spans)
        {
            return _spans.Remove(item);
        }
    }

    public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// The test classes that read the observed Host's metrics and spans, one after another, and after every
/// parallel collection: meters are process-wide by name, so while other test Hosts run in this process the
/// observed Host's exporter also takes their instruments (and their label sets fill its cardinality limit).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ObservedHost : ICollectionFixture<ObservedApp>
{
    public const string Name = "observed host";
}
