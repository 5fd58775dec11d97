using System.Net.Http.Json;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;
using Microsoft.Playwright;

namespace Conclave.EndToEnd.Tests;

/// <summary>The session sidebar: order, current session, search, rename in place, delete with undo, live run states.</summary>
public sealed class SidebarTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task It_lists_sessions_newest_first_marks_the_current_one_and_finds_them_by_title()
    {
        var alpha = await app.CreateSessionAsync("Sorting alpha");
        var beta = await app.CreateSessionAsync("Sorting beta");
        await app.CreateSessionAsync("Sorting gamma");

        var page = await OpenAsync($"/sessions/{beta.Id}");
        var sidebar = page.GetByTestId("sidebar");
        await sidebar.GetByTestId("session-search").FillAsync("sorting");

        await Assertions.Expect(sidebar.Locator(".sidebar-title")).ToHaveTextAsync(new[] { "Sorting gamma", "Sorting beta", "Sorting alpha" });
        await Assertions.Expect(sidebar.Locator("[aria-current=page]")).ToContainTextAsync("Sorting beta");

        await sidebar.GetByTestId("session-search").FillAsync("ALPHA");
        await Assertions.Expect(sidebar.Locator(".sidebar-title")).ToHaveTextAsync(new[] { "Sorting alpha" });
        await sidebar.GetByTestId("sidebar-link").ClickAsync();
        await app.WaitForUrlAsync(page, $"**/sessions/{alpha.Id}");
        await Assertions.Expect(sidebar.Locator("[aria-current=page]")).ToContainTextAsync("Sorting alpha");

        await sidebar.GetByTestId("session-search").FillAsync("no such title anywhere");
        await Assertions.Expect(sidebar.GetByTestId("sidebar-no-match")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_session_is_renamed_in_place_with_Enter()
    {
        var session = await app.CreateSessionAsync("Before the rename");
        var page = await OpenAsync("/");
        var item = Item(page, session.Id);

        await item.GetByTestId("rename-session").ClickAsync();
        await item.GetByTestId("rename-input").FillAsync("After the rename");
        await item.GetByTestId("rename-input").PressAsync("Enter");

        await Assertions.Expect(item.GetByTestId("sidebar-link")).ToContainTextAsync("After the rename");
        var stored = await app.Client.GetFromJsonAsync<SessionSummary>($"/api/v1/sessions/{session.Id}", Json.Options);
        Assert.Equal("After the rename", stored!.Title);
    }

    [Fact]
    public async Task Delete_then_undo_restores_the_session_and_a_deletion_not_undone_happens()
    {
        var kept = await app.CreateSessionAsync("Deleted then undone");
        var gone = await app.CreateSessionAsync("Deleted for good");
        var page = await OpenAsync("/");

        await Item(page, kept.Id).GetByTestId("delete-session").ClickAsync();
        await Assertions.Expect(Item(page, kept.Id)).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByTestId("undo-toast")).ToContainTextAsync("Deleted “Deleted then undone”.");
        await page.GetByTestId("undo-delete").ClickAsync();
        await Assertions.Expect(Item(page, kept.Id)).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("undo-toast")).ToHaveCountAsync(0);

        await Item(page, gone.Id).GetByTestId("delete-session").ClickAsync();
        await Assertions.Expect(Item(page, gone.Id)).ToHaveCountAsync(0);
        Assert.NotNull(await Stored(gone.Id)); // not yet: it can still be undone

        // The second deletion's window ends after the first's would have: had the undo not held, both would be gone.
        await Eventually.Until(async () => await Stored(gone.Id) is null, Deadline, "the deletion not undone happens after its window");
        Assert.NotNull(await Stored(kept.Id));
        await Assertions.Expect(Item(page, kept.Id)).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_run_state_changes_live_in_the_sidebar()
    {
        var session = await app.CreateSessionAsync("Live states");
        var page = await OpenAsync("/");
        var item = Item(page, session.Id);
        await Assertions.Expect(item).ToHaveAttributeAsync("data-run-state", "idle");
        var gate = new ChunkGate();
        app.Provider.Enqueue(Reply.ToolCall("list_files", "{}").Gated(gate));
        var index = app.Provider.Requests.Count;

        var posted = await app.PostMessageAsync(session.Id, "What files are there?");
        await app.Provider.WaitForRequestAsync(index, Deadline);
        await Assertions.Expect(item).ToHaveAttributeAsync("data-run-state", "working");
        await Assertions.Expect(item.GetByTestId("sidebar-run-state")).ToHaveTextAsync("working");

        (await app.Client.PostAsync($"/api/v1/sessions/{session.Id}/runs/{posted.RunId}/pause", null)).EnsureSuccessStatusCode();
        gate.Release(100);
        await Assertions.Expect(item).ToHaveAttributeAsync("data-run-state", "paused");

        (await app.Client.PostAsync($"/api/v1/sessions/{session.Id}/runs/{posted.RunId}/cancel", null)).EnsureSuccessStatusCode();
        await Assertions.Expect(item).ToHaveAttributeAsync("data-run-state", "idle");
    }

    /// <summary>Opens a page once it and its sidebar are interactive.</summary>
    private async Task<IPage> OpenAsync(string path)
    {
        var page = await app.OpenAsync(path);
        await page.Locator("[data-testid=sidebar][data-ready=true]").WaitForAsync();
        return page;
    }

    private static ILocator Item(IPage page, Guid sessionId) =>
        page.GetByTestId("sidebar").Locator($"[data-testid=sidebar-session][data-session-id='{sessionId}']");

    private async Task<SessionSummary?> Stored(Guid sessionId) =>
        await app.Service<ISessions>().FindAsync(ConclaveApp.DefaultUserId, sessionId, CancellationToken.None);
}
