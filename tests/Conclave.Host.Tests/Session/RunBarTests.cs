using Bunit;
using Conclave.Host.Components.Session;
using Conclave.Sessions.Contracts;
using Conclave.Testing.Host;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conclave.Host.Tests.Session;

/// <summary>The session page's run bar, against a run control that answers only when its call is cancelled.</summary>
public sealed class RunBarTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Leaving_the_page_cancels_a_pending_stop_and_logs_no_error()
    {
        var runs = new UnansweredRunControl();
        var logs = new CapturedLogs();
        await using var context = new BunitContext();
        context.Services.AddSingleton<IRunControl>(runs);
        context.Services.AddLogging(b => b.AddProvider(logs));
        var bar = context.Render<RunBar>(p => p
            .Add(x => x.State, QueuedRun())
            .Add(x => x.SessionId, Guid.NewGuid())
            .Add(x => x.OwnerId, "owner"));

        var click = bar.Find("[data-testid=stop]").ClickAsync(new MouseEventArgs());
        var token = await runs.Called.Task.WaitAsync(Deadline);
        await context.DisposeComponentsAsync();
        await click.WaitAsync(Deadline);

        Assert.True(token.IsCancellationRequested);
        Assert.False(context.Renderer.UnhandledException.IsCompleted);
        Assert.DoesNotContain(logs.Lines, line => line.StartsWith("Error") || line.StartsWith("Critical"));
    }

    private static TimelineState QueuedRun()
    {
        var state = new TimelineState();
        var now = DateTimeOffset.UtcNow;
        state.Apply(new FeedEvent(new SessionEvent(1, "run_queued", now, new RunQueued(Guid.NewGuid(), Guid.NewGuid(), now))));
        return state;
    }

    private sealed class UnansweredRunControl : IRunControl
    {
        public TaskCompletionSource<CancellationToken> Called { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task CancelAsync(string ownerId, Guid sessionId, Guid runId, CancellationToken cancellationToken) => Wait(cancellationToken);

        public Task PauseAsync(string ownerId, Guid sessionId, Guid runId, CancellationToken cancellationToken) => Wait(cancellationToken);

        public Task ResumeAsync(string ownerId, Guid sessionId, Guid runId, CancellationToken cancellationToken) => Wait(cancellationToken);

        private Task Wait(CancellationToken cancellationToken)
        {
            Called.TrySetResult(cancellationToken);
            return Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }
}
