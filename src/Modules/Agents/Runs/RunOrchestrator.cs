using System.Diagnostics;
using System.Text.Json;
using Conclave.Agents.Contracts;
using Conclave.Agents.Providers;
using Conclave.Agents.Telemetry;
using Conclave.Agents.Teams;
using Conclave.Agents.Tools;
using Conclave.Sessions.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Conclave.Agents.Runs;

/// <summary>
/// Executes a run as a loop of persisted steps: choose the speaker, stream its message (deltas live,
/// never persisted), append the message with the tool calls it asked for, check and execute each call
/// and append its result, then check termination. Every decision is made from the session log, so a
/// run stopped by a crash, a lost node or a pause continues from its last step and no step is applied
/// twice. Runs in the background (a durable message handler) holding a lease it renews.
/// </summary>
public sealed class RunOrchestrator
{
    /// <summary>Repeats of one tool call (same arguments), one message, or corrected calls that end a run.</summary>
    internal const int RepeatLimit = 3;

    private readonly ISessionLog _log;
    private readonly ITokenStream _tokens;
    private readonly ChatModels _models;
    private readonly ProviderResolver _providers;
    private readonly ITeams _teams;
    private readonly ToolRegistry _tools;
    private readonly IRunLeases _leases;
    private readonly ActiveRuns _active;
    private readonly TimeProvider _clock;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly AgentMetrics _metrics;
    private readonly ModelOutputOptions _output;
    private readonly ILogger<RunOrchestrator> _logger;

    /// <summary>This process, as a lease holder: a restarted Host is a new node.</summary>
    internal string NodeId { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    internal RunOrchestrator(
        ISessionLog log,
        ITokenStream tokens,
        ChatModels models,
        ProviderResolver providers,
        ITeams teams,
        ToolRegistry tools,
        IRunLeases leases,
        ActiveRuns active,
        TimeProvider clock,
        IHostApplicationLifetime lifetime,
        AgentMetrics metrics,
        IOptions<ModelOutputOptions> output,
        ILogger<RunOrchestrator> logger)
    {
        _metrics = metrics;
        _output = output.Value;
        _lifetime = lifetime;
        _log = log;
        _tokens = tokens;
        _models = models;
        _providers = providers;
        _teams = teams;
        _tools = tools;
        _leases = leases;
        _active = active;
        _clock = clock;
        _logger = logger;
    }

    public async Task ExecuteAsync(RunRequested request, CancellationToken messageCancelled)
    {
        // Wolverine's token does not fire when the Host stops; the application's does.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(messageCancelled, _lifetime.ApplicationStopping);
        var shutdown = stopping.Token;
        // Registered before the log is read, so a stop that arrives meanwhile is never missed.
        using var stop = new CancellationTokenSource();
        using var leaseLost = new CancellationTokenSource();
        using var work = CancellationTokenSource.CreateLinkedTokenSource(shutdown, stop.Token, leaseLost.Token);
        using var registration = _active.Register(request.RunId, stop);

        // The whole conversation, held for the run's execution. Its size is bounded per event (a user
        // message 32 KiB, an answer Conclave:Runs:MaxAnswerChars, tool arguments MaxToolArgumentChars,
        // tool outputs by the sandbox's output caps), not in number of events: a session that grows
        // without end needs the summarising ADR 0006 leaves for later, not a bigger read.
        var history = await _log.ReadAsync(request.SessionId, 0, shutdown);
        var status = RunHistory.StatusOf(history, request.RunId);
        if (!status.IsGoing())
        {
            _logger.LogInformation("Run {RunId} of session {SessionId} is {Status}; nothing to do", request.RunId, request.SessionId, status);
            return;
        }

        if (!await _leases.TryAcquireAsync(request.SessionId, request.RunId, NodeId, shutdown))
        {
            _logger.LogInformation("Run {RunId} of session {SessionId} is held by another live node; leaving it", request.RunId, request.SessionId);
            return;
        }

        var heartbeat = HeartbeatAsync(request.RunId, leaseLost, work.Token);
        var run = new Run(request, history);
        var outcome = Outcome.GoesOn;
        try
        {
            outcome = await DriveAsync(run, work.Token);
        }
        // Cancelling a model stream surfaces as whatever the transport throws, not always as a cancellation.
        catch (Exception) when (stop.IsCancellationRequested)
        {
            outcome = await RecordStopAsync(run);
        }
        catch (Exception) when (leaseLost.IsCancellationRequested && !shutdown.IsCancellationRequested)
        {
            _logger.LogWarning("Run {RunId} of session {SessionId} was taken over by another node; this node lets go", run.RunId, run.SessionId);
        }
        catch (Exception) when (shutdown.IsCancellationRequested)
        {
            _logger.LogInformation("Run {RunId} of session {SessionId} is handed on: this node is shutting down", run.RunId, run.SessionId);
        }
        catch (RunAlreadyEndedException)
        {
            // Stopped, superseded by an edit, or failed by the reaper while this step was under way.
            outcome = Outcome.Ended;
        }
        catch (Exception e) when (!work.IsCancellationRequested)
        {
            var reason = e is RunFailure or ProviderNotFoundException or ProviderValidationException
                ? e.Message
                : ProviderFailure.Describe(e, run.CurrentProvider ?? Unknown);
            _logger.LogWarning(e, "Run {RunId} of session {SessionId} failed: {Reason}", run.RunId, run.SessionId, reason);
            await TryEndAsync(run, new RunFailed(run.RunId, reason, false, _clock.GetUtcNow()));
            _metrics.RunEnded("failed");
            outcome = Outcome.Ended;
        }
        finally
        {
            await work.CancelAsync();
            await heartbeat;
        }

        if (!leaseLost.IsCancellationRequested)
        {
            // A run that goes on (this node shuts down) leaves its lease stale for the reaper to hand on at once.
            await _leases.ReleaseAsync(run.RunId, NodeId, runGoesOn: outcome == Outcome.GoesOn, CancellationToken.None);
        }
    }

    private enum Outcome
    {
        /// <summary>Not finished: another node (or a later resume) takes it on.</summary>
        GoesOn,

        /// <summary>Ended, or paused: nothing executes it until the user resumes.</summary>
        Ended,
    }

    private async Task<Outcome> DriveAsync(Run run, CancellationToken cancellationToken)
    {
        var state = run.State;
        if (state.Status == RunStatus.Pausing)
        {
            await AppendAsync(run, [new RunPaused(run.RunId, _clock.GetUtcNow())], cancellationToken);
            return Outcome.Ended;
        }

        run.Team = await TeamOfAsync(run, cancellationToken);
        await AppendAsync(
            run,
            [new RunStarted(run.RunId, NodeId, _clock.GetUtcNow(), run.Team.Name, state.Started ? null : JsonSerializer.Serialize(run.Team))],
            cancellationToken);
        await CheckPricesAsync(run, cancellationToken);

        while (true)
        {
            state = run.State;
            if (state.Status == RunStatus.Pausing)
            {
                await AppendAsync(run, [new RunPaused(run.RunId, _clock.GetUtcNow())], cancellationToken);
                _logger.LogInformation("Run {RunId} of session {SessionId} paused", run.RunId, run.SessionId);
                return Outcome.Ended;
            }

            if (state.PendingCalls.Count > 0)
            {
                await ExecuteCallAsync(run, state.PendingCalls[0], cancellationToken);
                continue;
            }

            if (EndOf(run, state) is { } end)
            {
                await AppendAsync(run, [end], cancellationToken);
                _metrics.RunEnded("completed");
                _logger.LogInformation("Run {RunId} of session {SessionId} ended: {End}", run.RunId, run.SessionId, end);
                return Outcome.Ended;
            }

            var speaker = await NextSpeakerAsync(run, state, cancellationToken);
            await SpeakAsync(run, speaker, cancellationToken);
        }
    }

    /// <summary>The event that ends the run now, if a termination rule or limit is met.</summary>
    private object? EndOf(Run run, RunState state)
    {
        var rules = run.Team!.Termination;
        var limits = state.Limits;
        var now = _clock.GetUtcNow();
        if (state.LastAnswer is { } answer && !state.LastMessageCalledTools)
        {
            if (rules.Keyword is { Length: > 0 } keyword && (rules.KeywordAgent is null || rules.KeywordAgent == answer.Agent)
                && ContainsWord(answer.Text, keyword))
            {
                return new RunCompleted(run.RunId, now, $"{answer.Agent} said {keyword}.");
            }

            if (rules.EndOnAnswer || run.Team.Selection == SpeakerSelection.Handoff && state.HandoffTo is null || run.Team.Agents.Count == 1 && rules.Keyword is null)
            {
                return new RunCompleted(run.RunId, now);
            }
        }

        var maxTurns = limits?.MaxTurns ?? rules.MaxTurns;
        if (state.Turns >= maxTurns)
        {
            return new RunCompleted(run.RunId, now, $"Reached the limit of {maxTurns} turns.");
        }

        if ((limits?.MaxTokens ?? rules.MaxTokens) is { } maxTokens && state.Usage.TotalTokens >= maxTokens)
        {
            return new RunCompleted(run.RunId, now, $"Reached the token limit: {state.Usage.TotalTokens:N0} tokens used of {maxTokens:N0}.");
        }

        if ((limits?.MaxCost ?? rules.MaxCost) is { } maxCost && state.Usage.KnownCost >= maxCost)
        {
            return new RunCompleted(run.RunId, now, $"Reached the cost limit: ${state.Usage.KnownCost:0.####} spent of ${maxCost:0.####}.");
        }

        if ((limits?.MaxDuration ?? rules.MaxDuration) is { } maxDuration && state.ActiveTime(now) >= maxDuration)
        {
            return new RunCompleted(run.RunId, now, $"Reached the time limit of {maxDuration}.");
        }

        return null;
    }

    private async Task<AgentDefinition> NextSpeakerAsync(Run run, RunState state, CancellationToken cancellationToken)
    {
        var agents = run.Team!.Agents;
        AgentDefinition? Named(string? name) => agents.FirstOrDefault(a => a.Name == name);

        if (state.HandoffTo is { } target && Named(target) is { } handedTo)
        {
            return handedTo;
        }

        if (state.LastMessageCalledTools && Named(state.LastSpeaker) is { } same)
        {
            return same; // it goes on with its tools' results
        }

        if (state.LastSpeaker is null || agents.Count == 1)
        {
            return Named(state.LastSpeaker) ?? agents[0];
        }

        var next = agents[(agents.ToList().FindIndex(a => a.Name == state.LastSpeaker) + 1) % agents.Count];
        return run.Team.Selection switch
        {
            SpeakerSelection.ModelSelected => await SelectSpeakerAsync(run, next, cancellationToken),
            SpeakerSelection.Handoff => Named(state.LastSpeaker) ?? agents[0],
            _ => next,
        };
    }

    /// <summary>Asks the model who speaks next; an answer naming no member falls back to round-robin.</summary>
    private async Task<AgentDefinition> SelectSpeakerAsync(Run run, AgentDefinition fallback, CancellationToken cancellationToken)
    {
        var team = run.Team!;
        var selector = team.Agents[0];
        var provider = await run.ProviderOfAsync(selector, _providers, cancellationToken);
        run.CurrentProvider = provider;
        var prompt = new System.Text.StringBuilder("You choose who speaks next in a team of agents working on the user's task. The members:\n");
        foreach (var member in team.Agents)
        {
            prompt.Append("- ").Append(member.Name).Append(": ").Append(member.Role).Append('\n');
        }

        if (!string.IsNullOrWhiteSpace(team.SelectorPrompt))
        {
            prompt.Append(team.SelectorPrompt.Trim()).Append('\n');
        }

        prompt.Append("Read the conversation and answer with the name of the next speaker only.");
        var chat = new ChatHistory(prompt.ToString());
        foreach (var message in Transcript.For(run.History, run.State, team, selector, new AgentToolbox([])).Skip(1))
        {
            if (!string.IsNullOrEmpty(message.Content))
            {
                chat.AddUserMessage(message.Content);
            }
        }

        var reply = await ModelTurn.StreamAsync(_models.Create(provider), chat, new AgentToolbox([]), _output.Limits, _ => { }, cancellationToken);
        var chosen = team.Agents.FirstOrDefault(a => ContainsWord(reply.Text, a.Name)) ?? fallback;
        await AppendAsync(
            run,
            [new SpeakerSelected(run.RunId, chosen.Name, provider.Model, reply.Usage, _clock.GetUtcNow(), provider.Cost(reply.Usage.PromptTokens, reply.Usage.CompletionTokens))],
            cancellationToken);
        _metrics.Used(provider.Name, provider.Model, reply.Usage, provider.Cost(reply.Usage.PromptTokens, reply.Usage.CompletionTokens));
        return chosen;
    }

    /// <summary>One step: the agent's message, streamed, then appended with the tool calls it asks for.</summary>
    private async Task SpeakAsync(Run run, AgentDefinition agent, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var provider = await run.ProviderOfAsync(agent, _providers, cancellationToken);
        run.CurrentProvider = provider;
        var toolbox = run.ToolboxOf(agent, _tools);
        var chat = Transcript.For(run.History, run.State, run.Team!, agent, toolbox);
        var messageId = Guid.CreateVersion7();
        var modelStarted = Stopwatch.GetTimestamp();
        var reply = await ModelTurn.StreamAsync(
            run.ModelOf(provider, _models),
            chat,
            toolbox,
            _output.Limits,
            delta => _tokens.Publish(run.SessionId, run.RunId, messageId, agent.Name, delta),
            cancellationToken);
        var modelTime = Stopwatch.GetElapsedTime(modelStarted);
        if (reply.Cut || reply.Calls.Any(c => c.ArgumentsCut))
        {
            _logger.LogInformation(
                "Run {RunId}: {Agent}'s answer reached a cap (answer cut: {AnswerCut}, tool arguments cut: {ArgumentsCut}); its stream was aborted",
                run.RunId, agent.Name, reply.Cut, reply.Calls.Count(c => c.ArgumentsCut));
        }

        var now = _clock.GetUtcNow();
        var events = new List<object>
        {
            new AgentMessageCompleted(
                run.RunId, messageId, agent.Name, reply.Text, provider.Model, reply.Usage, now,
                provider.Cost(reply.Usage.PromptTokens, reply.Usage.CompletionTokens), provider.Name),
        };
        events.AddRange(reply.Calls.Select(c => new ToolCallRequested(run.RunId, c.CallId, messageId, agent.Name, c.Name, c.Arguments, now, c.ArgumentsCut)));
        await AppendAsync(run, events, cancellationToken);
        _metrics.StepPersisted("message", (Stopwatch.GetElapsedTime(started) - modelTime).TotalMilliseconds);
        _metrics.Used(provider.Name, provider.Model, reply.Usage, provider.Cost(reply.Usage.PromptTokens, reply.Usage.CompletionTokens));

        var state = run.State;
        if (reply.Calls.Count == 0 && reply.Text.Trim().Length > 0 && state.RepeatsOfMessage(agent.Name, reply.Text) >= RepeatLimit)
        {
            throw new RunFailure($"{agent.Name} said the same thing {RepeatLimit} times; the run was stopped to save tokens. Rephrase the task or change the team.");
        }

        foreach (var call in reply.Calls)
        {
            if (state.RepeatsOf(call.Name, call.Arguments) >= RepeatLimit)
            {
                throw new RunFailure(
                    $"{agent.Name} called {call.Name} with the same arguments {RepeatLimit} times; the run was stopped to save tokens.");
            }
        }
    }

    /// <summary>Checks a requested call and executes it, or answers it with a correction; either way one appended step.</summary>
    private async Task ExecuteCallAsync(Run run, ToolCallRequested call, CancellationToken cancellationToken)
    {
        var agent = run.Team!.Agents.FirstOrDefault(a => a.Name == call.Agent);
        var toolbox = agent is null ? new AgentToolbox([]) : run.ToolboxOf(agent, _tools);
        var started = Stopwatch.GetTimestamp();
        var check = call.ArgumentsCut
            ? CheckedCall.Rejected(
                $"The arguments of {call.Tool} were longer than the limit of {_output.MaxToolArgumentChars:N0} characters, so the call was not run. " +
                "Pass less at once: split the work over several smaller calls (e.g. write a large file in parts).")
            : toolbox.Check(call.Tool, call.Arguments);
        var toolTime = TimeSpan.Zero;
        ToolAnswer answer;
        if (check.Function is null)
        {
            answer = new ToolAnswer(check.Correction!, ToolOutcome.Rejected, []);
            _logger.LogInformation("Run {RunId}: {Agent}'s call of {Tool} was corrected: {Correction}", run.RunId, call.Agent, call.Tool, check.Correction);
        }
        else
        {
            var toolStarted = Stopwatch.GetTimestamp();
            answer = await AgentToolbox.InvokeAsync(check.Function, check.Arguments!, cancellationToken);
            toolTime = Stopwatch.GetElapsedTime(toolStarted);
        }

        await AppendAsync(
            run,
            [new ToolCallCompleted(run.RunId, call.CallId, call.Agent, call.Tool, answer.Text, answer.Outcome, answer.Images, toolTime, _clock.GetUtcNow())],
            cancellationToken);
        _metrics.StepPersisted("tool", (Stopwatch.GetElapsedTime(started) - toolTime).TotalMilliseconds);

        if (answer.Outcome == ToolOutcome.Rejected && run.State.Rejections >= RepeatLimit)
        {
            throw new RunFailure(
                $"{call.Agent} kept calling tools that do not exist or with arguments that do not fit ({run.State.Rejections} times, the last: {call.Tool}); " +
                "the run was stopped. Check the team's tools and prompts.");
        }
    }

    private async Task<TeamDefinition> TeamOfAsync(Run run, CancellationToken cancellationToken)
    {
        if (run.State.TeamSnapshot is { } snapshot)
        {
            return JsonSerializer.Deserialize<TeamDefinition>(snapshot)!;
        }

        var teamId = run.State.TeamId ?? TeamTemplates.AssistantId;
        return await _teams.FindAsync(run.OwnerId, teamId, cancellationToken)
            ?? throw new RunFailure("The session's team no longer exists. Pick another team and post the message again.");
    }

    /// <summary>A cost limit needs prices: a run that could not keep to it does not start.</summary>
    private async Task CheckPricesAsync(Run run, CancellationToken cancellationToken)
    {
        if ((run.State.Limits?.MaxCost ?? run.Team!.Termination.MaxCost) is null)
        {
            return;
        }

        foreach (var agent in run.Team!.Agents)
        {
            var provider = await run.ProviderOfAsync(agent, _providers, cancellationToken);
            if (provider.InputPricePerMillion is null || provider.OutputPricePerMillion is null)
            {
                throw new RunFailure(
                    $"The run has a cost limit, but the provider '{provider.Name}' of {agent.Name} has no prices, so its cost is unknown. " +
                    "Set the provider's prices per million tokens, or remove the cost limit.");
            }
        }
    }

    /// <summary>Appends a step while the run is active, then catches up with the log (its own step and anything others appended).</summary>
    private async Task AppendAsync(Run run, IReadOnlyList<object> events, CancellationToken cancellationToken)
    {
        var seen = run.History[^1].Version;
        var last = await _log.AppendToRunAsync(run.SessionId, run.RunId, events, cancellationToken);
        if (last == seen + events.Count)
        {
            // Nobody wrote in between: the log now is what it was plus these events.
            run.Append(events.Select((e, i) => new SessionEvent(seen + 1 + i, e.GetType().Name, ((ITimelineEvent)e).At, e)).ToList());
        }
        else
        {
            // Others wrote (a pause request, a reaper): read what happened.
            run.Append(await _log.ReadAsync(run.SessionId, seen, cancellationToken));
        }
    }

    private async Task<Outcome> RecordStopAsync(Run run)
    {
        await TryEndAsync(run, new RunCancelled(run.RunId, RunReasons.StoppedByUser, _clock.GetUtcNow()));
        _metrics.RunEnded("cancelled");
        _logger.LogInformation("Run {RunId} of session {SessionId} was stopped by the user", run.RunId, run.SessionId);
        return Outcome.Ended;
    }

    /// <summary>Ends the run unless something else ended it first.</summary>
    private async Task TryEndAsync(Run run, object end)
    {
        try
        {
            await _log.AppendToRunAsync(run.SessionId, run.RunId, [end], CancellationToken.None);
        }
        catch (RunAlreadyEndedException)
        {
        }
    }

    private async Task HeartbeatAsync(Guid runId, CancellationTokenSource leaseLost, CancellationToken cancellationToken)
    {
        try
        {
            using var timer = new PeriodicTimer(_leases.HeartbeatInterval, _clock);
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                if (!await _leases.RenewAsync(runId, NodeId, cancellationToken))
                {
                    await leaseLost.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // A database hiccup: the next heartbeat tries again; a long outage makes the lease stale and the reaper decides.
            _logger.LogWarning(e, "Run {RunId}: renewing its lease failed", runId);
        }
    }

    private static bool ContainsWord(string text, string word) =>
        System.Text.RegularExpressions.Regex.IsMatch(text, $@"(?<![\w]){System.Text.RegularExpressions.Regex.Escape(word)}(?![\w])");

    private static readonly ResolvedProvider Unknown = new(null, "model provider", new Uri("http://unknown/"), "", null, null, null, 0, TimeSpan.Zero);

    /// <summary>A run that must end, with the reason the user reads.</summary>
    private sealed class RunFailure(string message) : Exception(message);

    /// <summary>One execution of a run: its request, the session history as far as read, and the team.</summary>
    private sealed class Run(RunRequested request, IReadOnlyList<SessionEvent> history)
    {
        private readonly List<SessionEvent> _history = [.. history];
        private RunState? _state;

        public Guid SessionId => request.SessionId;

        public Guid RunId => request.RunId;

        public string OwnerId => string.IsNullOrEmpty(State.OwnerId) ? request.OwnerId : State.OwnerId;

        public IReadOnlyList<SessionEvent> History => _history;

        public RunState State => _state ??= RunState.From(_history, RunId);

        public TeamDefinition? Team { get; set; }

        public ResolvedProvider? CurrentProvider { get; set; }

        private readonly Dictionary<string, AgentToolbox> _toolboxes = [];
        private readonly Dictionary<ResolvedProvider, IChatCompletionService> _models = [];
        private readonly Dictionary<string, ResolvedProvider> _providers = [];

        /// <summary>The agent's provider, resolved (and its key decrypted) once per execution, not once per step.</summary>
        public async Task<ResolvedProvider> ProviderOfAsync(AgentDefinition agent, ProviderResolver resolver, CancellationToken cancellationToken)
        {
            if (!_providers.TryGetValue(agent.Name, out var provider))
            {
                provider = await resolver.ResolveAsync(OwnerId, agent.ProviderId, agent.Model, cancellationToken);
                _providers[agent.Name] = provider;
            }

            return provider;
        }

        /// <summary>The agent's tools, built once per execution (the functions are the same for every step).</summary>
        public AgentToolbox ToolboxOf(AgentDefinition agent, ToolRegistry tools) =>
            _toolboxes.TryGetValue(agent.Name, out var toolbox) ? toolbox : _toolboxes[agent.Name] = tools.For(SessionId, Team!, agent);

        /// <summary>One client per provider and model for the execution, not one per step.</summary>
        public IChatCompletionService ModelOf(ResolvedProvider provider, ChatModels models) =>
            _models.TryGetValue(provider, out var model) ? model : _models[provider] = models.Create(provider);

        public void Append(IReadOnlyList<SessionEvent> newer)
        {
            _history.AddRange(newer);
            _state = null;
        }
    }
}
