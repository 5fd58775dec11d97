using Conclave.Sessions.Contracts;
using Conclave.Sessions.Log;
using Conclave.Sessions.RunControl;

namespace Conclave.Sessions.Tests.RunControl;

public sealed class RunControlTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly Guid Session = Guid.NewGuid(), Run = Guid.NewGuid();

    [Fact]
    public void A_paused_run_is_resumed_and_requested_again_a_pausing_one_goes_on_by_itself()
    {
        var resume = new ResumeRun("me", Session, Run);

        Assert.Equal<object>([new RunRequested(Session, Run, "me")], resume.Decide(RunStatus.Paused, Now).Messages);
        Assert.Empty(resume.Decide(RunStatus.Pausing, Now).Messages);
        Assert.Equal<object>([new RunResumed(Run, Now)], resume.Decide(RunStatus.Pausing, Now).Events);
        Assert.Throws<RunStateException>(() => resume.Decide(RunStatus.Running, Now));
    }

    [Fact]
    public void A_run_paused_or_pausing_cannot_be_paused_again()
    {
        var pause = new PauseRun("me", Session, Run);

        Assert.Equal<object>([new RunPauseRequested(Run, Now)], pause.Decide(RunStatus.Running, Now).Events);
        Assert.Throws<RunStateException>(() => pause.Decide(RunStatus.Paused, Now));
        Assert.Throws<RunStateException>(() => pause.Decide(RunStatus.Pausing, Now));
    }

    [Fact]
    public void A_paused_run_is_cancelled_in_the_log_any_other_by_its_node()
    {
        var cancel = new CancelRun("me", Session, Run);

        var ended = Assert.IsType<Decision>(cancel.Decide(RunStatus.Paused, Now));
        Assert.Equal<object>([new RunCancelled(Run, RunReasons.StoppedByUser, Now)], ended.Events);
        Assert.Equal(new RunCancellationRequested(Session, Run), cancel.Decide(RunStatus.Running, Now));
    }
}
