using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Conclave.Host.Tests.Observability;

/// <summary>
/// Debian's Prometheus (scripts/prometheus.sh install) as a child process on a free loopback port, with the
/// shipped deploy/prometheus/prometheus.yml and rules: only what a test must change is changed (the target, the
/// token file, where the rules are, a 1 s scrape and evaluation interval). Read through its HTTP API.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _output = new();
    private readonly HttpClient _api;

    private PrometheusServer(Process process, string directory, Uri address)
    {
        _process = process;
        _directory = directory;
        Address = address;
        _api = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Where the binary is: $CONCLAVE_PROMETHEUS (scripts/prometheus.sh env), else Debian's path.</summary>
    public static string Binary => Environment.GetEnvironmentVariable("CONCLAVE_PROMETHEUS") is { Length: > 0 } path ? path : "/usr/bin/prometheus";

    public Uri Address { get; }

    /// <summary>What Prometheus wrote (its log), for a failure message.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts Prometheus scraping <paramref name="conclave"/> at /metrics with <paramref name="scrapeToken"/>.</summary>
    public static PrometheusServer Start(Uri conclave, string scrapeToken)
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"{Binary} is missing: install it with scripts/prometheus.sh install (scripts/deps.sh does).");
        }

        var directory = Directory.CreateTempSubdirectory("conclave-prometheus-").FullName;
        var tokenFile = Path.Combine(directory, "scrape-token");
        File.WriteAllText(tokenFile, scrapeToken + "\n");
        var port = FreePort();
        var deploy = Path.Combine(DeployedQueries.Root(), "deploy", "prometheus");
        var config = File.ReadAllText(Path.Combine(deploy, "prometheus.yml"));
        foreach (var (shipped, here) in new[]
        {
            ("scrape_interval: 15s", "scrape_interval: 1s"),
            ("evaluation_interval: 15s", "evaluation_interval: 1s"),
            ("/run/secrets/scrape_token", tokenFile),
            ("/etc/prometheus/rules/", Path.Combine(deploy, "rules") + "/"),
            ("conclave:8080", $"{conclave.Host}:{conclave.Port}"),
            ("127.0.0.1:9090", $"127.0.0.1:{port}"),
        })
        {
            // The shipped file changed: this test must learn how, rather than test something else.
            Assert.True(config.Contains(shipped, StringComparison.Ordinal), $"deploy/prometheus/prometheus.yml no longer has '{shipped}'");
            config = config.Replace(shipped, here, StringComparison.Ordinal);
        }

        var configFile = Path.Combine(directory, "prometheus.yml");
        File.WriteAllText(configFile, config);
        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--config.file=" + configFile,
            "--storage.tsdb.path=" + Path.Combine(directory, "data"),
            $"--web.listen-address=127.0.0.1:{port}",
        })
        {
            start.ArgumentList.Add(argument);
        }

        return new PrometheusServer(Process.Start(start)!, directory, new Uri($"http://127.0.0.1:{port}/"));
    }

    /// <summary>Prometheus answers /-/ready (false while it starts; an exited process is an error, with its log).</summary>
    public async Task<bool> ReadyAsync()
    {
        if (_process.HasExited)
        {
            throw new InvalidOperationException($"{Binary} exited with {_process.ExitCode}:\n{Output}");
        }

        try
        {
            using var response = await _api.GetAsync("-/ready");
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>The health Prometheus gives the scrape target of <paramref name="job"/> ("up", "down", "unknown"), or null before it knows the target.</summary>
    public async Task<string?> TargetHealthAsync(string job)
    {
        var data = await GetDataAsync("api/v1/targets?state=active");
        return data.GetProperty("activeTargets").EnumerateArray()
            .Where(t => t.GetProperty("labels").GetProperty("job").GetString() == job)
            .Select(t => t.GetProperty("health").GetString())
            .FirstOrDefault();
    }

    /// <summary>When the last scrape of <paramref name="job"/> began (null before the first).</summary>
    public async Task<DateTimeOffset?> LastScrapeAsync(string job)
    {
        var data = await GetDataAsync("api/v1/targets?state=active");
        var target = data.GetProperty("activeTargets").EnumerateArray().FirstOrDefault(t => t.GetProperty("labels").GetProperty("job").GetString() == job);
        return target.ValueKind == JsonValueKind.Object && target.GetProperty("health").GetString() == "up"
            ? target.GetProperty("lastScrape").GetDateTimeOffset()
            : null;
    }

    /// <summary>Every loaded rule (recording and alerting) with its health and last evaluation.</summary>
    public async Task<IReadOnlyList<LoadedRule>> RulesAsync()
    {
        var data = await GetDataAsync("api/v1/rules");
        return data.GetProperty("groups").EnumerateArray()
            .SelectMany(g => g.GetProperty("rules").EnumerateArray())
            .Select(r => new LoadedRule(
                r.GetProperty("name").GetString()!,
                r.GetProperty("health").GetString()!,
                r.TryGetProperty("lastError", out var error) ? error.GetString() : null,
                r.GetProperty("lastEvaluation").GetDateTimeOffset()))
            .ToList();
    }

    /// <summary>Evaluates an instant query now: the API's answer, successful or not (a parse error is an answer too).</summary>
    public async Task<QueryAnswer> QueryAsync(string expr)
    {
        using var form = new FormUrlEncodedContent([KeyValuePair.Create("query", expr)]);
        using var response = await _api.PostAsync("api/v1/query", form);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = body.RootElement;
        if (root.GetProperty("status").GetString() != "success")
        {
            return new QueryAnswer(root.GetProperty("errorType").GetString() + ": " + root.GetProperty("error").GetString(), []);
        }

        var data = root.GetProperty("data");
        var values = data.GetProperty("resultType").GetString() switch
        {
            "vector" => data.GetProperty("result").EnumerateArray().Select(s => Sample(s.GetProperty("metric"), s.GetProperty("value"))).ToList(),
            "scalar" => [Sample(default, data.GetProperty("result"))],
            var type => throw new InvalidOperationException($"An instant query answered a {type}: {expr}"),
        };
        return new QueryAnswer(null, values);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
        _api.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static QuerySample Sample(JsonElement metric, JsonElement value)
    {
        var labels = metric.ValueKind == JsonValueKind.Object
            ? string.Join(",", metric.EnumerateObject().Select(l => $"{l.Name}=\"{l.Value.GetString()}\""))
            : "";
        return new QuerySample(labels, double.Parse(value[1].GetString()!, CultureInfo.InvariantCulture));
    }

    private async Task<JsonElement> GetDataAsync(string path)
    {
        using var response = await _api.GetAsync(path);
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("data").Clone();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}

public sealed record LoadedRule(string Name, string Health, string? LastError, DateTimeOffset LastEvaluation);

/// <param name="Error">Prometheus' error (e.g. a parse error); null when the query was evaluated.</param>
public sealed record QueryAnswer(string? Error, IReadOnlyList<QuerySample> Samples)
{
    public override string ToString() =>
        Error ?? (Samples.Count == 0 ? "no data" : string.Join("; ", Samples.Take(6).Select(s => $"{{{s.Labels}}} {s.Value}")));
}

public sealed record QuerySample(string Labels, double Value);
