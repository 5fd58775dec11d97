using Conclave.Agents.Contracts;
using Conclave.Agents.Telemetry;
using Conclave.Sessions.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conclave.Agents.Runs;

/// <summary>
/// The shell around one execution of a run (ADR 0006): it holds the run's lease and renews it, hands
/// the run to the <see cref="RunLoop"/>, and turns how the loop stopped into the run's outcome: ended
/// or paused, stopped by the user, failed, taken over by another node, or handed on because this node
/// shuts down. Runs in the background (a durable message handler), never in a request.
/// </summary>
public sealed class RunOrchestrator
{
    private readonly ISessionLog _log;
    private readonly IRunLeases _leases;
    private readonly ActiveRuns _active;
    private readonly RunLoop _loop;
    private readonly TimeProvider _clock;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly AgentMetrics _metrics;
    private readonly ILogger<RunOrchestrator> _logger;

    internal RunOrchestrator(
        ISessionLog log,
        IRunLeases leases,
        ActiveRuns active,
        RunLoop loop,
        TimeProvider clock,
        IHostApplicationLifetime lifetime,
        AgentMetrics metrics,
        ILogger<RunOrchestrator> logger)
    {
        _log = log;
        _leases = leases;
        _active = active;
        _loop = loop;
        _clock = clock;
        _lifetime = lifetime;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>This process, as a lease holder: a restarted Host is a new node.</summary>
    internal string NodeId { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    public async Task ExecuteAsync(RunRequested request, CancellationToken messageCancelled)
    {
        // A run that stopped to wait (an approval, a pause) can be answered before this execution has given its lease
        // up: the RunRequested the answer sends then finds the lease held here and leaves the run to nobody. So once
        // the lease is released, the log is read again, and a run that must go on goes on here.
        while (await ExecuteOnceAsync(request, messageCancelled) && !_lifetime.ApplicationStopping.IsCancellationRequested)
        {
            var after = RunState.From(await _log.ReadAsync(request.SessionId, 0, messageCancelled), request.RunId);
            if (!after.Status.IsGoing())
            {
                return;
            }

            _logger.LogInformation("Run {RunId} of session {SessionId} was answered while it let go; it goes on", request.RunId, request.SessionId);
        }
    }

    /// <summary>One execution of the run; true when it stopped short of an end (to wait for an approval, a pause) and gave its lease up.</summary>
    private async Task<bool> ExecuteOnceAsync(RunRequested request, CancellationToken messageCancelled)
    {
        if (_lifetime.ApplicationStopping.IsCancellationRequested)
        {
            // Draining (ADR 0015): a run delivered now is not started here; another node's reaper queues it again.
            await _leases.HandOnAsync(request.SessionId, request.RunId, CancellationToken.None);
            _logger.LogInformation("Run {RunId} of session {SessionId} is handed on unstarted: this node is shutting down", request.RunId, request.SessionId);
            return false;
        }

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
        var run = new Run(request, await _log.ReadAsync(request.SessionId, 0, shutdown), _log);
        if (!run.State.Status.IsGoing())
        {
            _logger.LogInformation("Run {RunId} of session {SessionId} is {Status}; nothing to do", run.RunId, run.SessionId, run.State.Status);
            return false;
        }

        if (!await _leases.TryAcquireAsync(run.SessionId, run.RunId, NodeId, shutdown))
        {
            _logger.LogInformation("Run {RunId} of session {SessionId} is held by another live node; leaving it", run.RunId, run.SessionId);
            return false;
        }

        using var activity = AgentTracing.StartRun(request, run.State.TraceParent);
        using var executing = _metrics.RunExecuting();
        var heartbeat = HeartbeatAsync(run.RunId, leaseLost, work.Token);
        var goesOn = true;
        try
        {
            await _loop.DriveAsync(run, NodeId, work.Token);
            goesOn = false;
        }
        // Cancelling a model stream surfaces as whatever the transport throws, not always as a cancellation.
        catch (Exception) when (stop.IsCancellationRequested)
        {
            await EndAsync(run, new RunCancelled(run.RunId, RunReasons.StoppedByUser, _clock.GetUtcNow()), "cancelled", "stopped_by_user");
            _logger.LogInformation("Run {RunId} of session {SessionId} was stopped by the user", run.RunId, run.SessionId);
            goesOn = false;
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
            goesOn = false;
        }
        catch (Exception e) when (!work.IsCancellationRequested)
        {
            var reason = e is RunFailure or ProviderNotFoundException or ProviderValidationException
                ? e.Message
                : ProviderFailure.Describe(e, run.CurrentProvider ?? ProviderFailure.Unknown);
            var kind = e switch
            {
                RunFailure failure => failure.Kind,
                ProviderNotFoundException or ProviderValidationException => "provider_configuration",
                _ => "provider",
            };
            _logger.LogWarning(e, "Run {RunId} of session {SessionId} failed: {Reason}", run.RunId, run.SessionId, reason);
            AgentTracing.Failed(activity, kind);
            await EndAsync(run, new RunFailed(run.RunId, reason, false, _clock.GetUtcNow()), "failed", kind);
            goesOn = false;
        }
        finally
        {
            await work.CancelAsync();
            await heartbeat;
        }

        if (leaseLost.IsCancellationRequested)
        {
            return false;
        }

        // A run that goes on (this node shuts down) leaves its lease stale for the reaper to hand on at once.
        await _leases.ReleaseAsync(run.RunId, NodeId, runGoesOn: goesOn, CancellationToken.None);
        return !goesOn && run.State.Status is not (RunStatus.Completed or RunStatus.Failed or RunStatus.Cancelled);
    }

    /// <summary>Ends the run unless something else ended it first.</summary>
    private async Task EndAsync(Run run, IRunEnded end, string outcome, string reason)
    {
        try
        {
            await _log.AppendToRunAsync(run.SessionId, run.RunId, [end], CancellationToken.None);
        }
        catch (RunAlreadyEndedException)
        {
        }

        _metrics.RunEnded(outcome, reason);
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
}
