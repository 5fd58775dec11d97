using System.Net.Sockets;
namespace Conclave.Egress;

/// <summary>
/// The egress policy refused the connection: the endpoint is (or resolves only to) an address it
/// denies and no allow-list entry permits. Nothing was sent.
/// </summary>
public sealed class EgressRefusedException(string host, int port, DeniedRange? literalRange)
    : IOException($"{Display(host)}:{port} is refused by the egress policy: {ReasonOf(literalRange)}.")
{
    public string Host { get; } = host;

    public int Port { get; } = port;

    /// <summary>Why, for the user: the range of a literal address they gave; for a name only that it resolves to denied addresses (which ones is logged at Debug, not told).</summary>
    public string Reason { get; } = ReasonOf(literalRange);

    private static string ReasonOf(DeniedRange? range) =>
        range is null ? "it resolves only to addresses the policy denies" : $"it is a {range.Name} address ({range.Range})";

    internal static string Display(string host) => host.Contains(':') ? $"[{host}]" : host;
}

/// <summary>
/// The endpoint could not be reached: the name did not resolve, the connection was refused, reset or
/// timed out. Deliberately one exception with one message, so a user cannot tell a closed port from
/// a filtered or open one (details are logged at Debug).
/// </summary>
public sealed class EgressUnreachableException(string host, int port, SocketError? cause = null)
    : IOException($"{EgressRefusedException.Display(host)}:{port} is unreachable.")
{
    public string Host { get; } = host;

    public int Port { get; } = port;

    /// <summary>
    /// Why, only for an endpoint the installation trusts (its own default provider): for any other, every
    /// failure reads the same so that a user cannot tell a closed port from a filtered one.
    /// </summary>
    public SocketError? Cause { get; } = cause;
}
