using Conclave.Sandbox.Contracts;
using Wolverine.Attributes;

namespace Conclave.Sandbox.Nodes;

// The node-to-node protocol of the Sandbox module: a call for a session's sandbox, sent to the queue of the node
// that holds it, and its answer, sent back to the caller's queue. Type names are identities on the queues: do not
// move them to another namespace once deployed.

/// <param name="Kind">One of <see cref="SandboxCallKinds"/>.</param>
/// <param name="Code">The code, for <see cref="SandboxCallKinds.Execute"/>.</param>
/// <param name="Timeout">The execution's time limit, for <see cref="SandboxCallKinds.Execute"/>; null is the owner's default.</param>
/// <param name="ReplyTo">The caller's queue address.</param>
public sealed record SandboxCall(Guid CallId, Guid SessionId, string Kind, string? Code, TimeSpan? Timeout, string CallerNode, Uri ReplyTo);

/// <summary>The caller stopped waiting (Stop, or its run was cancelled): the owner interrupts the running code.</summary>
public sealed record SandboxCallInterrupted(Guid CallId);

/// <param name="Result">What an execution produced; null for the other kinds and for failures.</param>
/// <param name="Failure">One of <see cref="SandboxCallFailures"/>, or null when the call succeeded.</param>
/// <param name="Message">What went wrong, for <see cref="Failure"/> (the exception's message at the owner).</param>
/// <param name="Owner">For <see cref="SandboxCallFailures.Moved"/>: the node that holds the sandbox now, if known.</param>
public sealed record SandboxCallAnswered(Guid CallId, ExecutionResult? Result, string? Failure, string? Message, string? Owner);

internal static class SandboxCallKinds
{
    public const string Execute = "execute";
    public const string Reset = "reset";
    public const string Stop = "stop";
    public const string Remove = "remove";
}

internal static class SandboxCallFailures
{
    /// <summary>The code was refused (too large): <see cref="ArgumentException"/> at the caller.</summary>
    public const string Argument = "argument";

    /// <summary><see cref="SandboxLimitsNotEnforcedException"/> at the caller.</summary>
    public const string LimitsNotEnforced = "limits";

    /// <summary><see cref="SandboxUnavailableException"/> at the caller.</summary>
    public const string Unavailable = "unavailable";

    /// <summary>The caller interrupted the call.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>The node no longer holds the sandbox (it was taken over): the caller places the session again.</summary>
    public const string Moved = "moved";

    /// <summary>The owner died while the caller waited: the caller places the session again (and takes it over).</summary>
    public const string OwnerLost = "owner-lost";
}

/// <summary>Calls from other nodes for sandboxes this node holds, from its own queue.</summary>
public static class SandboxCallHandler
{
    /// <summary>An execution is bounded by its own time limit (at most an hour); Wolverine's default handler timeout would cut it short.</summary>
    [MessageTimeout(4000)]
    public static Task Handle(SandboxCall call, SandboxRelay relay, CancellationToken cancellationToken) =>
        relay.AnswerAsync(call, cancellationToken);
}

public static class SandboxCallInterruptedHandler
{
    public static void Handle(SandboxCallInterrupted message, SandboxRelay relay) => relay.Interrupt(message.CallId);
}

/// <summary>Answers to calls this node sent, from its own queue.</summary>
public static class SandboxCallAnsweredHandler
{
    public static void Handle(SandboxCallAnswered answer, SandboxRelay relay) => relay.Answered(answer);
}
