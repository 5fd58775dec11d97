using Conclave.Agents.Runs;
using Conclave.Sessions.Contracts;

namespace Conclave.Agents.Tests.Runs;

public sealed class LoopBreakerTests
{
    [Fact]
    public void The_same_message_three_times_ends_the_run()
    {
        var log = new RunLog().Says("A", "same").Says("A", " same ");
        Assert.Null(LoopBreaker.AfterMessage(log.State, Message(log, "A", "same"), []));

        log.Says("A", "same");

        Assert.Equal(
            "A said the same thing 3 times; the run was stopped to save tokens. Rephrase the task or change the team.",
            LoopBreaker.AfterMessage(log.State, Message(log, "A", "same"), []));
    }

    [Fact]
    public void The_same_call_three_times_ends_the_run_whatever_the_spacing_and_key_order()
    {
        var log = new RunLog()
            .Calls("A", "write_file", """{"path":"a","content":"x"}""")
            .Calls("A", "write_file", """{ "content": "x", "path": "a" }""")
            .Calls("A", "write_file", """{"path":"a","content":"x"}""", answered: false);
        var call = log.State.PendingCalls.Single();

        Assert.Equal(
            "A called write_file with the same arguments 3 times; the run was stopped to save tokens.",
            LoopBreaker.AfterMessage(log.State, Message(log, "A", ""), [call]));
    }

    [Fact]
    public void Three_corrected_calls_end_the_run()
    {
        var log = new RunLog().Calls("A", "nope", outcome: ToolOutcome.Rejected).Calls("A", "nah", outcome: ToolOutcome.Rejected);
        var third = new ToolCallCompleted(log.RunId, "c3", "A", "never", "no such tool", ToolOutcome.Rejected, [], TimeSpan.Zero, RunLog.Start);
        Assert.Null(LoopBreaker.AfterCall(log.State, third));

        log.Add(third);

        Assert.StartsWith("A kept calling tools that do not exist", LoopBreaker.AfterCall(log.State, third), StringComparison.Ordinal);
    }

    [Fact]
    public void Errors_the_agent_can_fix_do_not_count_as_corrections()
    {
        var log = new RunLog()
            .Calls("A", "run_python", "{\"code\":\"1/0\"}", ToolOutcome.Error)
            .Calls("A", "run_python", "{\"code\":\"2/0\"}", ToolOutcome.Error)
            .Calls("A", "run_python", "{\"code\":\"3/0\"}", ToolOutcome.Error);
        var last = new ToolCallCompleted(log.RunId, "c", "A", "run_python", "ZeroDivisionError", ToolOutcome.Error, [], TimeSpan.Zero, RunLog.Start);

        Assert.Null(LoopBreaker.AfterCall(log.State, last));
    }

    private static AgentMessageCompleted Message(RunLog log, string agent, string text) =>
        new(log.RunId, Guid.NewGuid(), agent, text, "model", TokenUsage.None, RunLog.Start);
}
