using Microsoft.Extensions.Configuration;

namespace Conclave.Agents.Telemetry;

/// <summary>What the module's metrics and spans may hold (ADR 0013).</summary>
internal sealed class AgentTelemetryOptions
{
    /// <summary><c>Conclave:Metrics:CostByUser</c> (default true): cost and unpriced tokens carry a <c>user</c> label.</summary>
    public bool CostByUser { get; set; } = true;

    /// <summary>
    /// <c>Conclave:Telemetry:RecordMessageText</c> (default false): model call spans carry the answer's text.
    /// Off, no span holds anything a user or a model wrote.
    /// </summary>
    public bool RecordMessageText { get; set; }

    /// <summary>The most characters of text a span holds when <see cref="RecordMessageText"/> is on.</summary>
    public const int MaxRecordedChars = 4_096;

    public static void Bind(AgentTelemetryOptions options, IConfiguration configuration)
    {
        options.CostByUser = configuration.GetValue("Conclave:Metrics:CostByUser", true);
        options.RecordMessageText = configuration.GetValue("Conclave:Telemetry:RecordMessageText", false);
    }
}
