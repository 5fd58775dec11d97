using System.Collections.Concurrent;
using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Lifecycle;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Wolverine;

namespace Conclave.Sandbox.Nodes;

/// <summary>
/// Carries sandbox calls between nodes over their PostgreSQL queues. As the caller it sends a call to the owner's
/// queue and waits for the answer on its own, watching the owner's heartbeat meanwhile; as the owner it runs the
/// call on its local sandbox and sends the answer back. Public only because Wolverine's handlers take it.
/// </summary>
public sealed partial class SandboxRelay
{
    private const int MaxEarlyInterrupts = 256;

    /// <summary>An answer or an interrupt that cannot be delivered within this is of no use any more.</summary>
    private static readonly TimeSpan NoticeLifetime = TimeSpan.FromMinutes(1);

    private readonly SessionSandboxes _local;
    private readonly SandboxPlacements _placements;
    private readonly HeldSessions _held;
    private readonly IServiceScopeFactory _scopes;
    private readonly SandboxOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<SandboxRelay> _logger;

    /// <summary>Calls this node waits for; an entry lives as long as its call (bounded by the callers' own concurrency).</summary>
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<SandboxCallAnswered>> _waiting = new();

    /// <summary>Calls from other nodes running here, to interrupt; an entry lives as long as its execution.</summary>
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _running = new();

    /// <summary>
    /// Interrupts that came before their call started (the queue hands messages to handlers in parallel), so the
    /// call stops as it starts. Bounded: the oldest are forgotten first.
    /// </summary>
    private readonly ConcurrentDictionary<Guid, byte> _interruptedEarly = new();
    private readonly ConcurrentQueue<Guid> _interruptedOrder = new();

    internal SandboxRelay(
        SessionSandboxes local,
        SandboxPlacements placements,
        HeldSessions held,
        IServiceScopeFactory scopes,
        IOptions<SandboxOptions> options,
        TimeProvider clock,
        ILogger<SandboxRelay> logger)
    {
        _local = local;
        _placements = placements;
        _held = held;
        _scopes = scopes;
        _options = options.Value;
        _clock = clock;
        _logger = logger;
    }

    /// <summary>
    /// Sends <paramref name="call"/> to <paramref name="owner"/> and waits up to <paramref name="wait"/> for its answer.
    /// An owner that dies meanwhile answers <see cref="SandboxCallFailures.OwnerLost"/>; cancelling interrupts the call there.
    /// </summary>
    internal async Task<SandboxCallAnswered> CallAsync(string owner, SandboxCall call, TimeSpan wait, CancellationToken ct)
    {
        var answer = new TaskCompletionSource<SandboxCallAnswered>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[call.CallId] = answer;
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(wait);
            CallSent(_logger, call.Kind, call.SessionId, owner);
            await SendAsync(NodeQueue.Address(owner), call, wait);
            using var beat = new PeriodicTimer(_options.NodeHeartbeatInterval, _clock);
            while (true)
            {
                var tick = beat.WaitForNextTickAsync(deadline.Token).AsTask();
                if (await Task.WhenAny(answer.Task, tick) == answer.Task)
                {
                    return await answer.Task;
                }
                await tick;
                if (!await _placements.IsAliveAsync(owner, deadline.Token))
                {
                    OwnerLost(_logger, call.SessionId, owner);
                    return new SandboxCallAnswered(call.CallId, null, SandboxCallFailures.OwnerLost, $"node {owner} stopped answering", null);
                }
            }
        }
        catch (OperationCanceledException) when (!answer.Task.IsCompleted)
        {
            await InterruptQuietlyAsync(owner, call);
            if (ct.IsCancellationRequested)
            {
                throw;
            }
            return new SandboxCallAnswered(call.CallId, null, SandboxCallFailures.Unavailable,
                $"node {owner}, which holds this session's sandbox, did not answer within {wait.TotalSeconds:0}s", null);
        }
        finally
        {
            _waiting.TryRemove(call.CallId, out _);
        }
    }

    /// <summary>Runs a call from another node on this node's sandbox and sends the answer back.</summary>
    internal async Task AnswerAsync(SandboxCall call, CancellationToken ct)
    {
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _running[call.CallId] = interrupt;
        if (_interruptedEarly.TryRemove(call.CallId, out _))
        {
            await interrupt.CancelAsync();
        }
        SandboxCallAnswered answer;
        try
        {
            CallReceived(_logger, call.Kind, call.SessionId, call.CallerNode);
            answer = await RunAsync(call, interrupt.Token);
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            answer = Failed(call, SandboxCallFailures.Cancelled, "the call was interrupted");
        }
        catch (ArgumentException e)
        {
            answer = Failed(call, SandboxCallFailures.Argument, e.Message);
        }
        catch (SandboxLimitsNotEnforcedException e)
        {
            answer = Failed(call, SandboxCallFailures.LimitsNotEnforced, e.Message);
        }
        catch (SandboxUnavailableException e)
        {
            answer = Failed(call, SandboxCallFailures.Unavailable, e.Message);
        }
        finally
        {
            _running.TryRemove(call.CallId, out _);
        }
        await SendAsync(call.ReplyTo, answer, NoticeLifetime);
    }

    internal void Interrupt(Guid callId)
    {
        if (_running.TryGetValue(callId, out var running))
        {
            CancelQuietly(running);
            return;
        }
        if (_interruptedEarly.TryAdd(callId, 0))
        {
            _interruptedOrder.Enqueue(callId);
            while (_interruptedOrder.Count > MaxEarlyInterrupts && _interruptedOrder.TryDequeue(out var oldest))
            {
                _interruptedEarly.TryRemove(oldest, out _);
            }
        }
        // It may have started between the two looks.
        if (_running.TryGetValue(callId, out running))
        {
            CancelQuietly(running);
        }
    }

    private static void CancelQuietly(CancellationTokenSource running)
    {
        try
        {
            running.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call ended meanwhile.
        }
    }

    internal void Answered(SandboxCallAnswered answer)
    {
        if (_waiting.TryGetValue(answer.CallId, out var waiting))
        {
            waiting.TrySetResult(answer);
        }
    }

    private async Task<SandboxCallAnswered> RunAsync(SandboxCall call, CancellationToken ct)
    {
        // The caller read the placement a moment ago; if this node has lost the session since, running here would
        // make a second container (and a second mount): the caller places it again instead.
        var owner = await _placements.PlaceAsync(call.SessionId, ct);
        if (owner != _placements.ThisNode)
        {
            return new SandboxCallAnswered(call.CallId, null, SandboxCallFailures.Moved, $"the sandbox moved to node {owner}", owner);
        }
        ExecutionResult? result = null;
        switch (call.Kind)
        {
            case SandboxCallKinds.Execute:
                result = await _local.ExecuteAsync(call.SessionId, call.Code ?? "", call.Timeout, ct);
                break;
            case SandboxCallKinds.Reset:
                await _local.ResetAsync(call.SessionId, ct);
                break;
            case SandboxCallKinds.Stop:
                await _held.StopAsync(call.SessionId, ct);
                break;
            case SandboxCallKinds.Remove:
                await _local.RemoveSessionAsync(call.SessionId, ct);
                await _placements.ReleaseAsync(call.SessionId, ct);
                break;
            default:
                throw new ArgumentException($"Unknown sandbox call '{call.Kind}'.");
        }
        return new SandboxCallAnswered(call.CallId, result, null, null, null);
    }

    private async Task InterruptQuietlyAsync(string owner, SandboxCall call)
    {
        try
        {
            await SendAsync(NodeQueue.Address(owner), new SandboxCallInterrupted(call.CallId), NoticeLifetime);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            InterruptNotSent(_logger, e, call.SessionId, owner);
        }
    }

    private async Task SendAsync(Uri queue, object message, TimeSpan lifetime)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var bus = scope.ServiceProvider.GetRequiredService<IMessageBus>();
        // Expires unread: a call for a dead node must not run when a node of that id comes back much later.
        await bus.EndpointFor(queue).SendAsync(message, new DeliveryOptions { DeliverWithin = lifetime });
    }

    private static SandboxCallAnswered Failed(SandboxCall call, string failure, string message) =>
        new(call.CallId, null, failure, message, null);

    [LoggerMessage(42, LogLevel.Debug, "Sandbox call {Kind} for session {SessionId} sent to node {NodeId}")]
    private static partial void CallSent(ILogger logger, string kind, Guid sessionId, string nodeId);

    [LoggerMessage(43, LogLevel.Debug, "Sandbox call {Kind} for session {SessionId} received from node {NodeId}")]
    private static partial void CallReceived(ILogger logger, string kind, Guid sessionId, string nodeId);

    [LoggerMessage(44, LogLevel.Warning, "Node {NodeId}, holding session {SessionId}'s sandbox, stopped answering during a call")]
    private static partial void OwnerLost(ILogger logger, Guid sessionId, string nodeId);

    [LoggerMessage(45, LogLevel.Warning, "Could not tell node {NodeId} to interrupt a call for session {SessionId}")]
    private static partial void InterruptNotSent(ILogger logger, Exception exception, Guid sessionId, string nodeId);
}
