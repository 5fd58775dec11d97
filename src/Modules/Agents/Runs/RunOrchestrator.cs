using System.Text;
using Conclave.Agents.Providers;
using Conclave.Sessions.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using OpenAI.Chat;

namespace Conclave.Agents.Runs;

/// <summary>
/// Executes a run: rebuilds the conversation from the session log, streams the agent's answer
/// (deltas live, never persisted), then appends the completed message and the run's outcome.
/// Runs in the background (a durable message handler), never in a request or a UI circuit.
/// </summary>
public sealed class RunOrchestrator
{
    internal const string AssistantName = "Assistant";

    public const string StoppedByUser = "Stopped by the user.";

    internal const string AssistantPrompt =
        "You are Assistant, a helpful AI agent in Conclave. Answer clearly; use Markdown (tables, code blocks) where it helps. " +
        "You have no tools in this team.";

    private readonly ISessionLog _log;
    private readonly ITokenStream _tokens;
    private readonly ChatModels _models;
    private readonly TimeProvider _clock;
    private readonly ILogger<RunOrchestrator> _logger;
    private readonly ActiveRuns _active;
    private readonly string _nodeId = Environment.MachineName + ":" + Environment.ProcessId;

    internal RunOrchestrator(
        ISessionLog log, ITokenStream tokens, ChatModels models, ActiveRuns active, TimeProvider clock, ILogger<RunOrchestrator> logger)
    {
        _active = active;
        _log = log;
        _tokens = tokens;
        _models = models;
        _clock = clock;
        _logger = logger;
    }

    public async Task ExecuteAsync(RunRequested request, CancellationToken shutdown)
    {
        // Registered before the log is read, so a stop that arrives meanwhile is never missed.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
        using var registration = _active.Register(request.RunId, stop);
        var cancellationToken = stop.Token;

        var history = await _log.ReadAsync(request.SessionId, 0, shutdown);
        if (!RunHistory.IsActive(history, request.RunId))
        {
            _logger.LogInformation("Run {RunId} of session {SessionId} is already finished or unknown; nothing to do", request.RunId, request.SessionId);
            return;
        }

        var provider = _models.Current;
        try
        {
            await _log.AppendAsync(request.SessionId, [new RunStarted(request.RunId, _nodeId, _clock.GetUtcNow())], cancellationToken);
            var reply = await StreamReplyAsync(request, ToChat(history, request.RunId), cancellationToken);
            var now = _clock.GetUtcNow();
            await _log.AppendAsync(
                request.SessionId,
                [reply with { At = now }, new RunCompleted(request.RunId, now)],
                cancellationToken);
            _logger.LogInformation(
                "Run {RunId} of session {SessionId} completed: {PromptTokens} prompt and {CompletionTokens} completion tokens",
                request.RunId, request.SessionId, reply.Usage.PromptTokens, reply.Usage.CompletionTokens);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested && !shutdown.IsCancellationRequested)
        {
            await RecordStopAsync(request);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            var reason = ProviderFailure.Describe(e, provider.BaseUrl);
            _logger.LogWarning(e, "Run {RunId} of session {SessionId} failed: {Reason}", request.RunId, request.SessionId, reason);
            await _log.AppendAsync(request.SessionId, [new RunFailed(request.RunId, reason, false, _clock.GetUtcNow())], CancellationToken.None);
        }
    }

    private async Task RecordStopAsync(RunRequested request)
    {
        // The stop handler may already have ended a run it found not yet started.
        var history = await _log.ReadAsync(request.SessionId, 0, CancellationToken.None);
        if (RunHistory.IsActive(history, request.RunId))
        {
            await _log.AppendAsync(request.SessionId, [new RunCancelled(request.RunId, StoppedByUser, _clock.GetUtcNow())], CancellationToken.None);
        }

        _logger.LogInformation("Run {RunId} of session {SessionId} was stopped by the user", request.RunId, request.SessionId);
    }

    private async Task<AgentMessageCompleted> StreamReplyAsync(RunRequested request, ChatHistory chat, CancellationToken cancellationToken)
    {
        var messageId = Guid.CreateVersion7();
        var text = new StringBuilder();
        var usage = TokenUsage.None;
        var chatService = _models.Create();
        await foreach (var chunk in chatService.GetStreamingChatMessageContentsAsync(chat, cancellationToken: cancellationToken))
        {
            if (!string.IsNullOrEmpty(chunk.Content))
            {
                text.Append(chunk.Content);
                _tokens.Publish(request.SessionId, request.RunId, messageId, AssistantName, chunk.Content);
            }

            if (chunk.Metadata?.TryGetValue("Usage", out var raw) == true && raw is ChatTokenUsage reported)
            {
                usage = new TokenUsage(reported.InputTokenCount, reported.OutputTokenCount);
            }
        }

        return new AgentMessageCompleted(request.RunId, messageId, AssistantName, text.ToString(), _models.Current.Model, usage, default);
    }

    /// <summary>The conversation up to and including the message that queued this run.</summary>
    private static ChatHistory ToChat(IReadOnlyList<SessionEvent> history, Guid runId)
    {
        var chat = new ChatHistory(AssistantPrompt);
        foreach (var e in history)
        {
            switch (e.Data)
            {
                case UserMessagePosted posted:
                    chat.AddUserMessage(posted.Text);
                    break;
                case AgentMessageCompleted reply:
                    chat.AddAssistantMessage(reply.Text);
                    break;
                case RunQueued queued when queued.RunId == runId:
                    return chat;
            }
        }

        return chat;
    }
}
