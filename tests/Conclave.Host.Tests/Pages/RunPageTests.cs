using System.Text.RegularExpressions;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Pages;

/// <summary>A run's page: its summary and its steps as a Gantt chart drawn by the Host, for its owner only.</summary>
[Collection(SharedHost.Name)]
public sealed partial class RunPageTests(ConclaveApp app)
{
    [Fact]
    public async Task A_runs_page_draws_its_message_and_tool_steps_in_order_of_time_for_its_owner_only()
    {
        var session = await app.CreateSessionAsync("timeline");
        app.Provider.Enqueue(Reply.ToolCall("no_such_tool", "{}", id: "call_timeline_1").WithUsage(300, 20), Reply.Text("Done without it.").WithUsage(400, 30));
        var posted = await app.PostMessageAsync(session.Id, "Use a tool.");
        await app.WaitForRunEndAsync(session.Id, posted.RunId, TimeSpan.FromSeconds(60));
        using var owner = app.CreateCookieClient();
        await OidcFlow.SignInAsync(owner, ConclaveApp.DefaultUserName, ConclaveApp.Password);
        await app.CreateUserAsync("timeline-stranger");
        using var stranger = app.CreateCookieClient();
        await OidcFlow.SignInAsync(stranger, "timeline-stranger", ConclaveApp.Password);
        var path = $"/sessions/{session.Id}/runs/{posted.RunId}";

        var page = await owner.GetStringAsync(path);
        var strangers = await stranger.GetStringAsync(path);

        Assert.Contains("data-testid=\"run-summary\"", page);
        Assert.Contains("role=\"img\"", page);
        Assert.Equal(["message", "tool", "message"], Kinds().Matches(page).Select(m => m.Groups["kind"].Value));
        Assert.Contains("<title>no_such_tool (tool): ", page);
        Assert.Contains("data-testid=\"step-timeline-table\"", page);
        Assert.Contains("data-testid=\"run-not-found\"", strangers);
        Assert.DoesNotContain("step-timeline", strangers);
    }

    [GeneratedRegex("<rect class=\"chart-s\\d\" data-kind=\"(?<kind>[a-z]+)\"")]
    private static partial Regex Kinds();
}
