namespace Conclave.Sessions.Contracts;

/// <summary>
/// Sent (durably, through the outbox, in the same transaction as <see cref="RunQueued"/>) when a
/// session needs agents to work. The Agents module executes the run.
/// </summary>
public sealed record RunRequested(Guid SessionId, Guid RunId, string OwnerId);
