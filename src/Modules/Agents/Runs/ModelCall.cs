using System.Diagnostics;
using Conclave.Agents.Providers;
using Conclave.Agents.Telemetry;
using Conclave.Agents.Tools;
using Microsoft.Extensions.Options;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Conclave.Agents.Runs;

/// <summary>
/// One model call of a run, observed: its span (GenAI attributes; the answer's text only when
/// configured; never the key), its metrics (tokens, duration, first token, cost or unpriced tokens),
/// and, when it fails, the provider error by status.
/// </summary>
internal sealed class ModelCall(AgentMetrics metrics, IOptions<AgentTelemetryOptions> telemetry)
{
    public const string Chat = "chat";

    public async Task<ModelReply> StreamAsync(
        Run run,
        string agent,
        ResolvedProvider provider,
        IChatCompletionService model,
        ChatHistory chat,
        AgentToolbox tools,
        ReplyLimits limits,
        Action<string> onText,
        CancellationToken cancellationToken)
    {
        using var activity = AgentTracing.StartModelCall(Chat, provider.Name, provider.Model, provider.BaseUrl);
        var started = Stopwatch.GetTimestamp();
        ModelReply reply;
        try
        {
            reply = await ModelTurn.StreamAsync(model, chat, tools, limits, onText, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            var status = ProviderFailure.Status(e);
            metrics.ModelFailed(Chat, provider.Name, provider.Model, status, Stopwatch.GetElapsedTime(started));
            AgentTracing.Failed(activity, status);
            throw;
        }

        var cost = provider.Cost(reply.Usage.PromptTokens, reply.Usage.CompletionTokens);
        metrics.ModelCalled(new ModelCallFacts(
            Chat, run.Team.Name, agent, run.OwnerId, provider.Name, provider.Model, reply.Usage, cost, Stopwatch.GetElapsedTime(started), reply.FirstToken));
        if (activity is not null)
        {
            activity.SetTag("gen_ai.usage.input_tokens", reply.Usage.PromptTokens);
            activity.SetTag("gen_ai.usage.output_tokens", reply.Usage.CompletionTokens);
            activity.SetTag("conclave.usage.estimated", reply.Usage.Estimated);
            activity.SetTag("conclave.cost.usd", cost is { } known ? (double)known : null);
            activity.SetTag("conclave.tool_calls", reply.Calls.Count);
            if (telemetry.Value.RecordMessageText)
            {
                var text = reply.Text;
                activity.SetTag("conclave.output.text", text.Length > AgentTelemetryOptions.MaxRecordedChars ? text[..AgentTelemetryOptions.MaxRecordedChars] : text);
            }
        }

        return reply;
    }
}
