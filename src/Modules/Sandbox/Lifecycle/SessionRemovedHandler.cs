using Conclave.Sandbox.Contracts;
using Conclave.Sessions.Contracts;

namespace Conclave.Sandbox.Lifecycle;

/// <summary>A deleted session's container and files go; the message waits on the durable "sandbox" queue, so a restart does not lose it.</summary>
public static class SessionRemovedHandler
{
    public static Task Handle(SessionRemoved message, ISandbox sandbox, CancellationToken cancellationToken) =>
        sandbox.RemoveSessionAsync(message.SessionId, cancellationToken);
}
