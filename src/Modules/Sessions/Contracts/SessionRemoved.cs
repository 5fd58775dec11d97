namespace Conclave.Sessions.Contracts;

/// <summary>
/// Published (durably, through the outbox, in the same transaction as <see cref="SessionDeleted"/>)
/// when a session is deleted, so other modules drop what they hold for it (the Sandbox module
/// removes its container and files).
/// </summary>
public sealed record SessionRemoved(Guid SessionId, string OwnerId);
