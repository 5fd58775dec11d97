using Microsoft.Extensions.Options;

namespace Conclave.Host.Composition.Observability;

/// <summary>
/// How Prometheus reads the meters (<c>Conclave:Metrics</c>): at <c>/metrics</c> on the public port with a
/// scrape token, and/or on a port of its own. With neither, metrics are not served at all.
/// </summary>
internal sealed class MetricsOptions
{
    public const string Section = "Conclave:Metrics";

    /// <summary>The least a scrape token may have: it is a shared secret, not a password a person types.</summary>
    public const int MinTokenLength = 16;

    /// <summary>Serve <c>/metrics</c> on this port (plain HTTP, for a Prometheus beside the Host), apart from the public one.</summary>
    public int? Port { get; set; }

    /// <summary>Serve <c>/metrics</c> on the public port to requests with <c>Authorization: Bearer &lt;token&gt;</c>.</summary>
    public string? ScrapeToken { get; set; }

    public bool ServedOnPublicPort => !string.IsNullOrEmpty(ScrapeToken);
}

internal sealed class MetricsOptionsValidator : IValidateOptions<MetricsOptions>
{
    public ValidateOptionsResult Validate(string? name, MetricsOptions options)
    {
        var failures = new List<string>();
        if (options.Port is { } port && port is < 1 or > 65535)
        {
            failures.Add($"{MetricsOptions.Section}:Port must be a TCP port (1-65535); it is {port}.");
        }

        if (options.ScrapeToken is { Length: > 0 and < MetricsOptions.MinTokenLength })
        {
            failures.Add($"{MetricsOptions.Section}:ScrapeToken must have at least {MetricsOptions.MinTokenLength} characters (e.g. openssl rand -hex 32).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Where traces and metrics are pushed (<c>Conclave:Telemetry</c>), besides the Prometheus scrape.</summary>
internal sealed class TelemetryOptions
{
    public const string Section = "Conclave:Telemetry";

    /// <summary>
    /// False: no OpenTelemetry at all (no meter or trace listener, nothing served or pushed), e.g. to measure what the
    /// instrumentation costs (bench/Conclave.Bench.Runs). The modules' instruments then record into nothing.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>An OTLP collector (e.g. http://otel-collector:4317); empty: nothing is pushed.</summary>
    public Uri? OtlpEndpoint { get; set; }
}

internal sealed class TelemetryOptionsValidator : IValidateOptions<TelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, TelemetryOptions options) =>
        options.OtlpEndpoint is { } endpoint && (!endpoint.IsAbsoluteUri || endpoint.Scheme is not ("http" or "https"))
            ? ValidateOptionsResult.Fail($"{TelemetryOptions.Section}:OtlpEndpoint must be an absolute http(s) URL; it is '{endpoint}'.")
            : ValidateOptionsResult.Success;
}
