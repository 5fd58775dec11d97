using Conclave.Sessions.Contracts;

namespace Conclave.Sessions.Log;

/// <summary>
/// The stored name of each session event type is its class name, set explicitly so the store's
/// <c>type</c> column is the name clients see and stays stable whatever Marten's naming default.
/// </summary>
internal static class SessionEventTypes
{
    public static readonly IReadOnlyDictionary<string, Type> ByName = new[]
    {
        typeof(SessionStarted), typeof(SessionRenamed), typeof(SessionDeleted), typeof(UserMessagePosted),
        typeof(RunQueued), typeof(RunStarted), typeof(AgentMessageCompleted), typeof(RunCompleted), typeof(RunFailed), typeof(RunCancelled),
        typeof(SessionTeamChanged), typeof(UserMessageEdited), typeof(SpeakerSelected), typeof(ToolCallRequested), typeof(ToolCallCompleted),
        typeof(RunPauseRequested), typeof(RunPaused), typeof(RunResumed), typeof(RunRequeued),
    }.ToDictionary(t => t.Name);
}
