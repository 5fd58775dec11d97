using Bunit;
using Conclave.Host.Components;
using Conclave.Testing.Host;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conclave.Host.Tests.Session;

/// <summary>What every page and component inherits: leaving the page cancels its pending I/O, and nobody hears of it.</summary>
public sealed class CancellableComponentTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Leaving_the_page_cancels_a_pending_call_and_logs_or_raises_no_error()
    {
        var logs = new CapturedLogs();
        await using var context = new BunitContext();
        context.Services.AddLogging(b => b.AddProvider(logs));
        var probe = context.Render<WaitsOnClick>();

        var click = probe.Find("button").ClickAsync(new MouseEventArgs());
        var token = await probe.Instance.Waiting.Task.WaitAsync(Deadline);
        await context.DisposeComponentsAsync();
        await click.WaitAsync(Deadline);

        Assert.True(token.IsCancellationRequested);
        Assert.False(context.Renderer.UnhandledException.IsCompleted);
        Assert.DoesNotContain(logs.Lines, line => line.StartsWith("Error") || line.StartsWith("Critical"));
    }

    /// <summary>A component whose button starts a call that only ends when its token is cancelled.</summary>
    private sealed class WaitsOnClick : CancellableComponent
    {
        public TaskCompletionSource<CancellationToken> Waiting { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override void BuildRenderTree(RenderTreeBuilder builder)
        {
            builder.OpenElement(0, "button");
            builder.AddAttribute(1, "onclick", EventCallback.Factory.Create<MouseEventArgs>(this, WaitAsync));
            builder.AddContent(2, "Wait");
            builder.CloseElement();
        }

        private Task WaitAsync()
        {
            Waiting.TrySetResult(ComponentToken);
            var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            ComponentToken.Register(() => cancelled.TrySetCanceled(ComponentToken));
            return cancelled.Task;
        }
    }
}
