using System.Diagnostics;

namespace Conclave.Sandbox.Telemetry;

/// <summary>The module's spans, on the ActivitySource <c>Conclave.Sandbox</c>: executions (never the code, never its output).</summary>
internal static class SandboxTracing
{
    public const string SourceName = "Conclave.Sandbox";

    public static readonly ActivitySource Source = new(SourceName);
}
