namespace Conclave.Sessions.Contracts;

/// <summary>The session list's read model (a Marten projection of the session stream).</summary>
public sealed record SessionSummary
{
    public Guid Id { get; init; }
    public string OwnerId { get; init; } = "";
    public string Title { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public int MessageCount { get; init; }
    public int RunCount { get; init; }
    public RunStatus LastRunStatus { get; init; } = RunStatus.None;
    public long PromptTokens { get; init; }
    public long CompletionTokens { get; init; }
    public bool Deleted { get; init; }
}

public enum RunStatus
{
    None,
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}
