using System.Globalization;
using Conclave.Sessions.Contracts;
using Microsoft.Extensions.Options;

namespace Conclave.Sessions.Live;

/// <summary>
/// What one node tells the others after a commit, through PostgreSQL's NOTIFY: session S now has
/// events <see cref="FromVersion"/>..<see cref="ToVersion"/>, written by node <see cref="Origin"/>. Only
/// ids and versions: a listener reads the events from the store, as a subscriber fills any gap.
/// </summary>
internal sealed record CommitNotice(string Origin, Guid SessionId, long FromVersion, long ToVersion)
{
    public string ToPayload() => string.Create(CultureInfo.InvariantCulture, $"{Origin}|{SessionId:N}|{FromVersion}|{ToVersion}");

    /// <summary>Null for anything that is not a notice (another program on the same channel).</summary>
    public static CommitNotice? Parse(string payload)
    {
        var parts = payload.Split('|');
        return parts.Length == 4
               && Guid.TryParseExact(parts[1], "N", out var sessionId)
               && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var from)
               && long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var to)
               && from >= 1 && to >= from
            ? new CommitNotice(parts[0], sessionId, from, to)
            : null;
    }
}

/// <summary>
/// This process among the nodes: its notices carry <see cref="Origin"/> so it can ignore its own (its
/// hub has those events already). Unique per process, so two Hosts with the same configured id still differ.
/// </summary>
internal sealed class ThisNode(IOptions<NodeOptions> options)
{
    public string Origin { get; } = $"{options.Value.Id.Replace('|', '_')}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";

    public string Channel => options.Value.NotifyChannel;
}
