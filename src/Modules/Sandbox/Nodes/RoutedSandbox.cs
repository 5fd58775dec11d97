using System.Text;
using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Lifecycle;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Sandbox.Nodes;

/// <summary>
/// The sandbox of a node among several (ADR 0015): a session's calls run on the node that holds its sandbox,
/// here when that is this node (claimed when nobody holds it, or taken over from a dead node), else on the
/// holder, through its queue. Callers see the same contract as on one node.
/// </summary>
internal sealed partial class RoutedSandbox(
    SessionSandboxes local,
    SandboxPlacements placements,
    HeldSessions held,
    SandboxRelay relay,
    IOptions<SandboxOptions> options,
    ILogger<RoutedSandbox> logger)
    : ISandbox, ISandboxProcesses
{
    /// <summary>A sandbox that moves (taken over, or its holder died mid-call) is placed again; this bounds the rounds.</summary>
    private const int MaxRounds = 3;

    public async Task<ExecutionResult> ExecuteAsync(Guid sessionId, string code, TimeSpan? timeout, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        // Refused here too, before it is put on another node's queue.
        if (Encoding.UTF8.GetByteCount(code) > options.Value.MaxCodeBytes)
        {
            throw new ArgumentException($"The code is larger than {options.Value.MaxCodeBytes} bytes.", nameof(code));
        }
        var limit = timeout is { } t && t > TimeSpan.Zero && t < options.Value.ExecutionTimeout ? t : options.Value.ExecutionTimeout;
        return (await RouteAsync(sessionId, SandboxCallKinds.Execute, code, limit,
            async () => await local.ExecuteAsync(sessionId, code, timeout, ct), ct))!;
    }

    public Task ResetAsync(Guid sessionId, CancellationToken ct = default) =>
        RouteAsync(sessionId, SandboxCallKinds.Reset, null, options.Value.StartTimeout, async () =>
        {
            await local.ResetAsync(sessionId, ct);
            return null;
        }, ct);

    public Task StopAsync(Guid sessionId, CancellationToken ct = default) =>
        RouteAsync(sessionId, SandboxCallKinds.Stop, null, options.Value.StartTimeout, async () =>
        {
            await held.StopAsync(sessionId, ct);
            return null;
        }, ct);

    /// <summary>
    /// The holder removes the container and the files; with no live holder, this node takes the session (and with it
    /// whatever mount a dead node left) and removes them. A holder that fails leaves them: only it may unmount them.
    /// </summary>
    public Task RemoveSessionAsync(Guid sessionId, CancellationToken ct = default) =>
        RouteAsync(sessionId, SandboxCallKinds.Remove, null, options.Value.StartTimeout, async () =>
        {
            await local.RemoveSessionAsync(sessionId, ct);
            await placements.ReleaseAsync(sessionId, ct);
            return null;
        }, ct);

    /// <summary>
    /// A program talks to the Host over streams, which the queue does not carry: it starts on this node. When another
    /// node holds the session's sandbox, that is a container of this node's for the session on the holder's mount of
    /// the workspace (files shared, not the kernel), where this node sees that mount (one machine); elsewhere it is
    /// refused, as this node may not mount the image (ADR 0015, not built yet).
    /// </summary>
    public async Task<ISandboxProcess> StartAsync(Guid sessionId, IReadOnlyList<string> command, CancellationToken ct = default)
    {
        var owner = await placements.PlaceAsync(sessionId, ct);
        if (owner != placements.ThisNode)
        {
            ProgramBesideHolder(logger, command.Count > 0 ? command[0] : "", sessionId, owner);
        }
        return await local.StartAsync(sessionId, command, ct);
    }

    [LoggerMessage(49, LogLevel.Warning, "Program {Program} of session {SessionId} starts in a container on this node, while node {NodeId} holds the session's sandbox: programs over stdin/stdout do not cross nodes")]
    private static partial void ProgramBesideHolder(ILogger logger, string program, Guid sessionId, string nodeId);

    private async Task<ExecutionResult?> RouteAsync(Guid sessionId, string kind, string? code, TimeSpan limit, Func<Task<ExecutionResult?>> here, CancellationToken ct)
    {
        for (var round = 1; ; round++)
        {
            var owner = await placements.PlaceAsync(sessionId, ct);
            if (owner == placements.ThisNode)
            {
                return await here();
            }

            var answer = await relay.CallAsync(owner, Call(sessionId, kind, code, limit), limit + options.Value.RemoteCallSlack, ct);
            switch (answer.Failure)
            {
                case null:
                    return answer.Result;
                case SandboxCallFailures.Moved or SandboxCallFailures.OwnerLost when round < MaxRounds:
                    continue;
                case SandboxCallFailures.Argument:
                    throw new ArgumentException(answer.Message, nameof(code));
                case SandboxCallFailures.LimitsNotEnforced:
                    throw new SandboxLimitsNotEnforcedException(answer.Message ?? "");
                case SandboxCallFailures.Cancelled:
                    throw new OperationCanceledException(answer.Message);
                default:
                    throw new SandboxUnavailableException(answer.Message ?? $"node {owner} could not run the call");
            }
        }
    }

    private SandboxCall Call(Guid sessionId, string kind, string? code, TimeSpan? timeout) =>
        new(Guid.NewGuid(), sessionId, kind, code, timeout, placements.ThisNode, NodeQueue.Address(placements.ThisNode));
}
