using System.Diagnostics;
using Conclave.Sessions.Contracts;

namespace Conclave.Agents.Telemetry;

/// <summary>
/// The module's spans, on the ActivitySource <c>Conclave.Agents</c>: a run (continuing the trace of the
/// request that queued it), its steps, model calls (GenAI attributes) and tool calls. Never a provider
/// key; never text a user or a model wrote unless <see cref="AgentTelemetryOptions.RecordMessageText"/>.
/// </summary>
internal static class AgentTracing
{
    public const string SourceName = "Conclave.Agents";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>The run's span: a child of the request that queued it (stored on its RunQueued), on whichever node.</summary>
    public static Activity? StartRun(RunRequested request, string? traceParent)
    {
        var parent = ActivityContext.TryParse(traceParent, null, out var queued) ? queued : Activity.Current?.Context ?? default;
        var activity = Source.StartActivity("conclave.run", ActivityKind.Internal, parent);
        activity?.SetTag("conclave.session.id", request.SessionId.ToString());
        activity?.SetTag("conclave.run.id", request.RunId.ToString());
        return activity;
    }

    public static Activity? StartStep(string kind, string? agent)
    {
        var activity = Source.StartActivity($"conclave.run.step {kind}");
        activity?.SetTag("conclave.step.kind", kind);
        activity?.SetTag("gen_ai.agent.name", agent);
        return activity;
    }

    public static Activity? StartModelCall(string operation, string provider, string model, Uri baseUrl)
    {
        var activity = Source.StartActivity($"{operation} {model}", ActivityKind.Client);
        activity?.SetTag("gen_ai.operation.name", operation);
        activity?.SetTag("gen_ai.request.model", model);
        activity?.SetTag("conclave.provider", provider);
        activity?.SetTag("server.address", baseUrl.Host);
        activity?.SetTag("server.port", baseUrl.Port);
        return activity;
    }

    public static Activity? StartToolCall(string tool, string callId)
    {
        var activity = Source.StartActivity($"execute_tool {tool}");
        activity?.SetTag("gen_ai.operation.name", "execute_tool");
        activity?.SetTag("gen_ai.tool.name", tool);
        activity?.SetTag("gen_ai.tool.call.id", callId);
        return activity;
    }

    public static void Failed(Activity? activity, string errorType)
    {
        activity?.SetTag("error.type", errorType);
        activity?.SetStatus(ActivityStatusCode.Error, errorType);
    }
}
