using Conclave.Sessions.Contracts;

namespace Conclave.Sessions.Tests.Contracts;

public sealed class RunHistoryTests
{
    private static readonly DateTimeOffset At = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly Guid Run = Guid.NewGuid();

    private static RunStatus After(params IRunEvent[] events) =>
        RunHistory.StatusOf(events.Select((e, i) => new SessionEvent(i + 1, e.GetType().Name, At, e)), Run);

    [Fact]
    public void A_run_the_log_does_not_hold_has_no_status() =>
        Assert.Equal(RunStatus.None, After(new RunQueued(Guid.NewGuid(), Guid.NewGuid(), At)));

    [Fact]
    public void A_run_goes_from_queued_to_running_to_paused_and_back()
    {
        Assert.Equal(RunStatus.Queued, After(new RunQueued(Run, Guid.NewGuid(), At)));
        Assert.Equal(RunStatus.Running, After(new RunQueued(Run, Guid.NewGuid(), At), new RunStarted(Run, "n", At)));
        Assert.Equal(RunStatus.Pausing, After(new RunQueued(Run, Guid.NewGuid(), At), new RunStarted(Run, "n", At), new RunPauseRequested(Run, At)));
        Assert.Equal(RunStatus.Paused, After(new RunQueued(Run, Guid.NewGuid(), At), new RunPauseRequested(Run, At), new RunPaused(Run, At)));
        Assert.Equal(RunStatus.Queued, After(new RunQueued(Run, Guid.NewGuid(), At), new RunPaused(Run, At), new RunResumed(Run, At)));
    }

    [Fact]
    public void A_pause_asked_for_survives_a_restart_of_the_run()
    {
        Assert.Equal(RunStatus.Pausing, After(new RunQueued(Run, Guid.NewGuid(), At), new RunPauseRequested(Run, At), new RunStarted(Run, "n", At)));
        Assert.Equal(RunStatus.Pausing, After(new RunQueued(Run, Guid.NewGuid(), At), new RunPauseRequested(Run, At), new RunRequeued(Run, 1, "lost", At)));
    }

    [Fact]
    public void Every_end_is_final_and_the_first_one_counts()
    {
        Assert.Equal(RunStatus.Completed, After(new RunQueued(Run, Guid.NewGuid(), At), new RunCompleted(Run, At), new RunStarted(Run, "n", At)));
        Assert.Equal(RunStatus.Failed, After(new RunQueued(Run, Guid.NewGuid(), At), new RunFailed(Run, "x", false, At), new RunCancelled(Run, "y", At)));
        Assert.Equal(RunStatus.Cancelled, After(new RunQueued(Run, Guid.NewGuid(), At), new RunCancelled(Run, "y", At), new RunResumed(Run, At)));
        Assert.All([RunStatus.Completed, RunStatus.Failed, RunStatus.Cancelled], s => Assert.True(s.HasEnded()));
    }

    [Fact]
    public void Active_runs_are_those_queued_and_not_ended()
    {
        var other = Guid.NewGuid();
        var history = new IRunEvent[] { new RunQueued(Run, Guid.NewGuid(), At), new RunQueued(other, Guid.NewGuid(), At), new RunFailed(Run, "x", true, At) }
            .Select((e, i) => new SessionEvent(i + 1, e.GetType().Name, At, e));

        Assert.Equal([other], RunHistory.ActiveRuns(history));
    }
}
