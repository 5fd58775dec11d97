using System.ComponentModel.DataAnnotations;

namespace Conclave.Sessions.Contracts;

/// <summary>
/// This Host as one node of several on one PostgreSQL (<c>Conclave:Node</c>, ADR 0015): how nodes tell
/// each other about commits, and how a node leaves.
/// </summary>
public sealed class NodeOptions
{
    public const string Section = "Conclave:Node";

    /// <summary>This node's name in logs and notifications; a process adds its own suffix, so two Hosts may share it.</summary>
    [Required]
    [StringLength(128, MinimumLength = 1)]
    public string Id { get; set; } = Environment.MachineName;

    /// <summary>
    /// The PostgreSQL channel that carries "session S has events up to version V" between nodes. Every
    /// node of one installation must use the same; two installations on one database need two.
    /// </summary>
    [Required]
    [RegularExpression("^[a-z_][a-z0-9_]{0,62}$", ErrorMessage = "NotifyChannel must be a lower-case SQL identifier (letters, digits, _; at most 63).")]
    public string NotifyChannel { get; set; } = "conclave_session_events";

    /// <summary>
    /// How long a stopping node waits for its runs to hand on and its live clients to leave, before it
    /// exits anyway (the Host's shutdown timeout).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>The <c>retry:</c> a stopping node sends its SSE clients: how soon they reconnect (to another node).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan ReconnectHint { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The first pause before the notification listener reconnects; it doubles up to <see cref="ListenerMaxBackoff"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan ListenerBackoff { get; set; } = TimeSpan.FromMilliseconds(250);

    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan ListenerMaxBackoff { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the listener waits for a notification before it checks that its connection is alive.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan ListenerKeepAlive { get; set; } = TimeSpan.FromSeconds(20);
}
