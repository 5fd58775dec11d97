using System.ComponentModel.DataAnnotations;

namespace Conclave.Agents.Runs;

/// <summary>Tool approvals (<c>Conclave:Runs</c>): how long a call under the "ask" policy waits for the user.</summary>
internal sealed class ApprovalOptions
{
    /// <summary>Unanswered for this long, a call waiting for approval counts as denied.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan ApprovalTimeout { get; set; } = TimeSpan.FromHours(1);
}
