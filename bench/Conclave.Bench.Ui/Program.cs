using System.Diagnostics;
using System.Globalization;
using Conclave.Bench.Common;
using Conclave.EndToEnd.Tests;
using Conclave.Sessions.Contracts;
using Conclave.Testing.Host;
using Microsoft.Playwright;

// Prints the UI's figures (issue 17) with the Host in this process and Debian's Chromium driven by
// Playwright, as the browser tests do:
//   1. opening a session of 2,000 events: navigation start to an interactive timeline at its latest message;
//   2. the sidebar's title filter over 1,000 sessions: typing to the list showing the match (and back);
//   3. the server memory of a Blazor circuit showing an idle session of 200 events.
// Sessions are written through the Sessions module's log (LongSessions) and its use cases, not faked.
// Run: source .data/env.sh; Logging__LogLevel__Default=Warning dotnet run -c Release --project bench/Conclave.Bench.Ui [-- --smoke]
//   --smoke  tiny n, no thresholds (test.sh runs every bench this way); a page that never gets there still fails it
//   --only memory|open|sidebar  one part
var smoke = args.Contains("--smoke");
var only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault();
bool Runs(string part) => only is null || only == part;
var longEvents = smoke ? 200 : 2000;
var opens = smoke ? 2 : 20;
var sidebarSessions = smoke ? 100 : 1000;
var filters = smoke ? 3 : 30;
var idleEvents = 200;
var circuits = smoke ? 2 : 10;
var deadline = TimeSpan.FromSeconds(60);

var app = new BrowserApp();
await app.InitializeAsync();
var table = new Table(smoke);
var failures = 0;
try
{
    // 3 first, on a heap with little else: each circuit's user has one session (a short sidebar).
    if (Runs("memory"))
    {
        await MemoryAsync();
    }

    if (Runs("open"))
    {
        await OpenLongSessionAsync();
    }

    if (Runs("sidebar"))
    {
        await SidebarAsync();
    }

    table.Add(Figure.Count("pages that did not get there in time", failures, "pages", Target.NoneAllowed));
    return table.ExitCode;
}
catch (Exception e) when (e is PlaywrightException or System.TimeoutException)
{
    table.Note($"gave up: {e.Message}");
    table.Add(Figure.Count("pages that did not get there in time", failures + 1, "pages", Target.NoneAllowed));
    return 1;
}
finally
{
    table.Print();
    await app.DisposeAsync();
}

// 3. The server memory of circuits showing an idle session.
async Task MemoryAsync()
{
    var memory = await CircuitMemoryAsync(idleEvents, circuits);
    table.Add(Figure.Single($"server memory per circuit, idle session page of {idleEvents} events [n={circuits} circuits]", memory / 1024, "KB", Target.Latency(500, null)));
    var long2000 = await CircuitMemoryAsync(longEvents, circuits);
    table.Add(Figure.Single($"  the same for a session of {longEvents:N0} events [n={circuits} circuits]", long2000 / 1024, "KB", Target.None));
    var empty = await CircuitMemoryAsync(0, circuits);
    table.Add(Figure.Single($"  the same for an empty session (the page and sidebar without a timeline) [n={circuits} circuits]", empty / 1024, "KB", Target.None));
    var floor = await MemoryPerPageAsync(circuits, [], async page =>
    {
        await page.GotoAsync("/login");
        await page.GetByTestId("login").WaitForAsync();
    });
    table.Add(Figure.Single($"  the same for the sign-in page, static, no circuit: the method's floor [n={circuits}]", floor / 1024, "KB", Target.None));
    table.Note($"memory: live managed heap (GC.GetTotalMemory after a full compacting collection) with {circuits} session pages open in separate");
    table.Note("  browser contexts, less the heap with the same contexts open on about:blank, divided by the circuits; the Host shares this process");
    table.Note("  with the bench: what a page costs without a circuit (Playwright's objects for its requests, Kestrel's) is the sign-in page's row.");
    table.Note("  Unmanaged memory is not counted.");
}

// 1. Opening a long session.
async Task OpenLongSessionAsync()
{
    var expectedLast = LongSessions.Closing((longEvents + LongSessions.EventsPerExchange - 1) / LongSessions.EventsPerExchange);
    var session = await LongSessions.CreateAsync(app, "A long history", longEvents);
    await OpenSessionAsync(session.Id, expectedLast); // warm up: JIT, Markdown cache, Chromium's caches are per context anyway
    var opened = new List<double>();
    var drawn = new List<double>();
    for (var i = 0; i < opens; i++)
    {
        var (interactive, entries) = await OpenSessionAsync(session.Id, expectedLast);
        opened.Add(interactive);
        drawn.Add(entries);
    }

    table.Add(Figure.Of($"open a session of {longEvents:N0} events: navigation to interactive at its latest message", opened, "ms", Target.Latency(1000, null), tailPercentile: 95));
    table.Add(Figure.Of("  timeline entries drawn when it is", drawn, "entries", Target.None));
    table.Note("open: performance.now() in the page (0 = navigation start) when the message box is bound (data-interactive), the history is");
    table.Note("  drawn and the latest answer is in the viewport, polled each animation frame; a fresh browser context each time.");
}

// 2. The sidebar's filter.
async Task SidebarAsync()
{
    var sessions = app.Service<ISessions>();
    await Parallel.ForEachAsync(Enumerable.Range(0, sidebarSessions), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        await sessions.CreateAsync(ConclaveApp.DefaultUserId, $"Topic {i:D4} notes", ct));
    var listed = (await sessions.ListAsync(ConclaveApp.DefaultUserId, CancellationToken.None)).Count;
    var page = await app.NewPageAsync();
    await page.GotoAsync("/");
    await page.Locator($"[data-testid=sidebar][data-ready=true] [data-testid=sidebar-list][data-count='{listed}']").WaitForAsync(new() { Timeout = (float)deadline.TotalMilliseconds });
    var narrowed = new List<double>();
    var cleared = new List<double>();
    var random = new Random(17);
    for (var i = 0; i < filters + 2; i++)
    {
        var query = $"topic {random.Next(sidebarSessions):D4}";
        var toOne = await page.EvaluateAsync<double>(PageScripts.Filter, new object[] { query, 1 });
        var toAll = await page.EvaluateAsync<double>(PageScripts.Filter, new object[] { "", listed });
        if (toOne < 0 || toAll < 0)
        {
            failures++;
            table.Note($"filter '{query}' did not show what it should within {deadline.TotalSeconds} s");
        }
        else if (i >= 2)
        {
            // The first two warm up.
            narrowed.Add(toOne);
            cleared.Add(toAll);
        }
    }

    table.Add(Figure.Of($"sidebar of {listed:N0} sessions: type a title, to its one match shown", narrowed, "ms", Target.Latency(100, null), tailPercentile: 95));
    table.Add(Figure.Of($"sidebar of {listed:N0} sessions: clear the search, to the first of all shown", cleared, "ms", Target.Latency(100, null), tailPercentile: 95));
    var rendered = await page.GetByTestId("sidebar-session").CountAsync();
    table.Add(Figure.Count($"sidebar items drawn of {listed:N0}", rendered, "items", Target.None));
    table.Note("filter: performance.now() from setting the search box's value (an input event, as typing sends) until the list's items are the");
    table.Note("  expected ones, watched by a MutationObserver: the round trip to the circuit, the filter, the render and the DOM update.");

    var longestFrame = await page.EvaluateAsync<double>(PageScripts.Scroll);
    table.Add(Figure.Single($"sidebar of {listed:N0} sessions: longest frame scrolling top to bottom (60 px a frame)", longestFrame, "ms", Target.None));
}

// Navigates a fresh context to the session; the page itself notes when it became interactive at its end.
async Task<(double InteractiveMs, int Entries)> OpenSessionAsync(Guid sessionId, string lastText)
{
    var page = await app.NewPageAsync();
    await page.AddInitScriptAsync(PageScripts.InteractiveWatch.Replace("LAST_TEXT", lastText, StringComparison.Ordinal));
    await page.GotoAsync($"/sessions/{sessionId}");
    await page.WaitForFunctionAsync("() => window.__interactive", null, new() { Timeout = (float)deadline.TotalMilliseconds });
    var at = await page.EvaluateAsync<double>("() => window.__interactive.at");
    var entries = await page.EvaluateAsync<int>("() => window.__interactive.entries");
    return (at, entries);
}

// Opens the same idle session in `count` contexts at once and weighs the heap before and after.
async Task<double> CircuitMemoryAsync(int events, int count)
{
    var userName = $"circuit-weigher-{Guid.NewGuid():N}"[..24];
    var user = await app.CreateUserAsync(userName);
    var session = await LongSessions.CreateAsync(app, "An idle session", events, user.Id);
    var cookies = (await app.SignInCookiesAsync(userName))
        .Select(c => new Cookie { Name = c.Key, Value = c.Value, Url = app.BaseAddress.ToString() }).ToList();
    return await MemoryPerPageAsync(count, cookies, async page =>
    {
        await page.GotoAsync($"/sessions/{session.Id}");
        await page.Locator("[data-testid=session][data-interactive=true] #timeline[data-history-read=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = (float)deadline.TotalMilliseconds });
        await page.Locator("[data-testid=sidebar][data-ready=true]").WaitForAsync();
    });
}

// The heap after `open` in `count` contexts, less the heap with them on about:blank, per context.
async Task<double> MemoryPerPageAsync(int count, IReadOnlyList<Cookie> cookies, Func<IPage, Task> open)
{
    async Task<IPage> BlankPageAsync()
    {
        var context = await app.Browser.NewContextAsync(new() { BaseURL = app.BaseAddress.ToString() });
        if (cookies.Count > 0)
        {
            await context.AddCookiesAsync(cookies);
        }

        return await context.NewPageAsync();
    }

    // Warm up: the first page pays for JIT and caches that all share.
    var warm = await BlankPageAsync();
    await open(warm);
    await warm.Context.CloseAsync();

    var pages = new List<IPage>();
    for (var i = 0; i < count; i++)
    {
        pages.Add(await BlankPageAsync());
    }

    var before = Heap();
    foreach (var page in pages)
    {
        await open(page);
    }

    var after = Heap();
    foreach (var page in pages)
    {
        await page.Context.CloseAsync();
    }

    return (after - before) / (double)count;
}

static long Heap()
{
    GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    GC.WaitForPendingFinalizers();
    GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    return GC.GetTotalMemory(forceFullCollection: false);
}

// Sets the sidebar's search box and resolves with the milliseconds until it lists `count` items whose titles
// contain the query (all of them when the query is empty: the first drawn is the newest), or -1 after 10 s.
internal static class PageScripts
{
    public const string Filter = """
        ([query, count]) => new Promise((resolve) => {
          const box = document.querySelector("[data-testid=session-search]");
          const sidebar = document.getElementById("sidebar");
          const done = () => {
            const list = sidebar.querySelector("[data-testid=sidebar-list]");
            if (!list || list.dataset.count !== String(count)) return false;
            const titles = [...list.querySelectorAll(".sidebar-title")];
            return titles.length > 0 && titles.every((t) => t.textContent.toLowerCase().includes(query));
          };
          let observer;
          const timer = setTimeout(() => { observer.disconnect(); resolve(-1); }, 10000);
          const t0 = performance.now();
          observer = new MutationObserver(() => {
            if (!done()) return;
            const took = performance.now() - t0;
            observer.disconnect();
            clearTimeout(timer);
            resolve(took);
          });
          observer.observe(sidebar, { subtree: true, childList: true, attributes: true, characterData: true });
          box.value = query;
          box.dispatchEvent(new Event("input", { bubbles: true }));
        })
        """;

    // Scrolls the sidebar's list from top to bottom 60 px an animation frame; resolves with the longest frame (ms).
    public const string Scroll = """
        () => new Promise((resolve) => {
          const list = document.querySelector("[data-testid=sidebar-list]");
          list.scrollTop = 0;
          let last = performance.now(), longest = 0;
          const step = (now) => {
            longest = Math.max(longest, now - last);
            last = now;
            if (list.scrollTop + list.clientHeight >= list.scrollHeight - 1) return resolve(longest);
            list.scrollTop += 60;
            requestAnimationFrame(step);
          };
          requestAnimationFrame((now) => { last = now; requestAnimationFrame(step); });
        })
        """;

    // Installed before the page's scripts: notes (window.__interactive) the first animation frame in which the
    // message box is bound, the history drawn, and the latest answer (LAST_TEXT) in the viewport.
    public const string InteractiveWatch = """
        (() => {
          const check = () => {
            const session = document.querySelector("[data-testid=session][data-interactive=true]");
            const timeline = document.querySelector("#timeline[data-history-read=true]");
            const entries = timeline ? timeline.querySelectorAll(":scope > [data-testid=entry]") : [];
            const last = entries[entries.length - 1];
            if (session && last && last.textContent.includes("LAST_TEXT")) {
              const box = last.getBoundingClientRect();
              if (box.top < innerHeight && box.bottom > 0) {
                window.__interactive = { at: performance.now(), entries: entries.length };
                return;
              }
            }
            requestAnimationFrame(check);
          };
          requestAnimationFrame(check);
        })();
        """;
}
