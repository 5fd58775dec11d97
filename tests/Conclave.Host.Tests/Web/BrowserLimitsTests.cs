using Conclave.Egress;
using Conclave.Web.Browsing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Conclave.Host.Tests.Web;

/// <summary>The browser's limits, on a browser of its own with small ones: contexts per node, idle closing, pages per context.</summary>
[Collection(WebApp.Collection)]
public sealed class BrowserLimitsTests(WebApp app)
{
    [Fact]
    public async Task Contexts_beyond_the_cap_are_refused_until_idle_ones_are_closed_and_pop_ups_beyond_the_page_cap_are_closed()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = new BrowserOptions
        {
            MaxContexts = 2,
            MaxPagesPerContext = 1,
            IdleTimeout = TimeSpan.FromMinutes(1),
            AllowList = [$"127.0.0.1:{app.Site.Port}"],
            ExecutablePath = Environment.GetEnvironmentVariable("Conclave__Browser__ExecutablePath") ?? "/usr/bin/chromium",
        };
        await using var browsers = new SessionBrowsers(Options.Create(options), app.Service<EgressPolicy>(), clock, app.Service<ILoggerFactory>());
        var form = app.Site.Url("form").ToString();
        Task<string> OpenAsync(Guid session) => browsers.UseAsync(session, Guid.Empty, async b =>
        {
            await b.Page!.GotoAsync(form);
            return await b.Page.TitleAsync();
        }, CancellationToken.None);
        var (a, b, c) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());

        Assert.Equal("Question form", await OpenAsync(a));
        Assert.Equal("Question form", await OpenAsync(b));
        var busy = await Assert.ThrowsAnyAsync<Exception>(() => OpenAsync(c));
        Assert.Contains("The browser is busy: 2 sessions are browsing", busy.Message, StringComparison.Ordinal);

        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(0, await browsers.CloseIdleAsync());
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(2, await browsers.CloseIdleAsync());
        Assert.Equal(0, browsers.Contexts);
        Assert.Equal("Question form", await OpenAsync(c));

        // A page that opens a pop-up beyond the cap of one page: the pop-up is closed, the page stays.
        var pages = await browsers.UseAsync(c, Guid.Empty, async s =>
        {
            var popup = await s.Context.RunAndWaitForPageAsync(() => s.Page!.EvaluateAsync("() => { window.open('/form'); }"));
            await Conclave.Testing.Eventually.Until(() => popup.IsClosed, TimeSpan.FromSeconds(10), "the pop-up is closed");
            return s.Context.Pages.Count;
        }, CancellationToken.None);
        Assert.Equal(1, pages);
    }
}
