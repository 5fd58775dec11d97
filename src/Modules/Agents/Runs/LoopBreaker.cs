using Conclave.Sessions.Contracts;

namespace Conclave.Agents.Runs;

/// <summary>
/// Ends a run going round in circles, read from the log: the same tool call (same tool, same
/// normalised arguments), the same message from one agent, or corrected calls, <see cref="RepeatLimit"/>
/// times in one run. Pure: each check gives the reason the run fails, or null.
/// </summary>
internal static class LoopBreaker
{
    public const int RepeatLimit = 3;

    /// <summary>After an agent's message and the calls it asked for are appended.</summary>
    public static string? AfterMessage(RunState state, AgentMessageCompleted message, IReadOnlyList<ToolCallRequested> calls)
    {
        if (calls.Count == 0 && message.Text.Trim().Length > 0 && state.RepeatsOfMessage(message.Agent, message.Text) >= RepeatLimit)
        {
            return $"{message.Agent} said the same thing {RepeatLimit} times; the run was stopped to save tokens. Rephrase the task or change the team.";
        }

        return calls.FirstOrDefault(call => state.RepeatsOf(call.Tool, call.Arguments) >= RepeatLimit) is { } repeated
            ? $"{message.Agent} called {repeated.Tool} with the same arguments {RepeatLimit} times; the run was stopped to save tokens."
            : null;
    }

    /// <summary>After a call's result is appended.</summary>
    public static string? AfterCall(RunState state, ToolCallCompleted done) =>
        done.Outcome == ToolOutcome.Rejected && state.Rejections >= RepeatLimit
            ? $"{done.Agent} kept calling tools that do not exist or with arguments that do not fit ({state.Rejections} times, the last: {done.Tool}); " +
              "the run was stopped. Check the team's tools and prompts."
            : null;
}
