using System.ComponentModel.DataAnnotations;

namespace Conclave.Agents.Runs;

/// <summary>
/// Bounds on what a model may send in one turn (<c>Conclave:Runs</c>): a provider is outside input,
/// so an answer or a tool call's arguments never grow a buffer without a cap.
/// </summary>
internal sealed class ModelOutputOptions
{
    public const string Section = "Conclave:Runs";

    /// <summary>An answer longer than this is cut here, with a note, and its stream aborted.</summary>
    [Range(1_000, 10_000_000)]
    public int MaxAnswerChars { get; set; } = 200_000;

    /// <summary>A tool call whose arguments are longer than this is not run: the agent is told the limit.</summary>
    [Range(1_024, 16 * 1024 * 1024)]
    public int MaxToolArgumentChars { get; set; } = 256 * 1024;

    /// <summary>
    /// The longest line (one streamed event) of a provider's response the Host reads: room for a whole
    /// capped answer and capped arguments in a single event, even fully JSON-escaped (6 bytes a character).
    /// </summary>
    public int MaxEventBytes => (int)Math.Min(int.MaxValue, 6L * (MaxAnswerChars + MaxToolArgumentChars) + 64 * 1024);

    /// <summary>What one turn may take in: these caps, plus the calls a message may ask for at once.</summary>
    public ReplyLimits Limits => new(MaxAnswerChars, MaxToolArgumentChars, ReplyLimits.MaxCallsPerMessage);
}
