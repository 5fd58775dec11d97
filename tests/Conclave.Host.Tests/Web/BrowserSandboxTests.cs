using System.Globalization;
using Conclave.Testing;
using Conclave.Web.Browsing;

namespace Conclave.Host.Tests.Web;

/// <summary>Chromium runs as its own user with its own sandbox on (ADR 0018), and a crash costs one call, not the browser.</summary>
[Collection(WebApp.Collection)]
public sealed class BrowserSandboxTests(WebApp app)
{
    [Fact]
    public async Task Chromium_runs_as_the_sandbox_user_with_its_sandbox_on_and_without_the_hosts_environment()
    {
        await app.CallAsync(Guid.NewGuid(), "open_url", new { url = app.Site.Url("").ToString() });
        var browsers = app.Service<SessionBrowsers>();

        var processes = browsers.ChromiumProcessIds();

        Assert.True(Environment.IsPrivilegedProcess, "these tests run as root, as CI does: the case the wrapper exists for");
        Assert.NotEmpty(processes);
        var sandboxUid = Uid("conclave-browser");
        Assert.StartsWith("conclave-browser (uid ", browsers.SandboxUser, StringComparison.Ordinal);
        var seen = 0;
        foreach (var pid in processes)
        {
            try
            {
                var status = File.ReadAllLines($"/proc/{pid}/status");
                Assert.Equal(sandboxUid, int.Parse(status.Single(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture));
                Assert.DoesNotContain("--no-sandbox", File.ReadAllText($"/proc/{pid}/cmdline").Split('\0'));
                Assert.DoesNotContain("ConnectionStrings", File.ReadAllText($"/proc/{pid}/environ"), StringComparison.Ordinal);
                seen++;
            }
            catch (IOException)
            {
                // A short-lived helper process ended meanwhile.
            }
        }

        Assert.True(seen > 0);

        // Chromium's sandbox puts its renderers and zygote in namespaces of their own: more than one user namespace.
        var namespaces = processes.Select(pid => TryLink($"/proc/{pid}/ns/user")).OfType<string>().Distinct().ToList();
        Assert.True(namespaces.Count > 1, $"all of Chromium's processes share one user namespace ({string.Join(", ", namespaces)}): its sandbox is off");
    }

    [Fact]
    public async Task A_browser_killed_during_a_call_fails_that_call_clearly_and_the_next_call_starts_a_new_one()
    {
        var browsers = app.Service<SessionBrowsers>();
        var session = Guid.NewGuid();
        await app.CallAsync(session, "open_url", new { url = app.Site.Url("").ToString() });
        var launches = browsers.Launches;
        var slowBefore = app.Site.SlowRequests;

        var during = app.CallAsync(session, "open_url", new { url = app.Site.Url("slow").ToString() });
        await Eventually.Until(() => Volatile.Read(ref app.Site.SlowRequests) > slowBefore, TimeSpan.FromSeconds(30), "the browser is loading the slow page");
        Kill(browsers.ChromiumProcessIds());
        var crashed = await during;
        await Eventually.Until(() => !browsers.Connected, TimeSpan.FromSeconds(30), "the browser is seen gone");
        var after = await app.CallAsync(session, "open_url", new { url = app.Site.Url("form").ToString() });

        Assert.True(crashed.Failed);
        Assert.Contains("The browser crashed during this call and was restarted", crashed.Text, StringComparison.Ordinal);
        Assert.False(after.Failed, after.Text);
        Assert.Equal(launches + 1, browsers.Launches);
    }

    private static void Kill(IReadOnlyList<int> processes)
    {
        foreach (var pid in processes)
        {
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                process.Kill();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // Gone with its parent already.
            }
        }
    }

    private static int Uid(string user) =>
        int.Parse(File.ReadLines("/etc/passwd").Select(l => l.Split(':')).Single(f => f[0] == user)[2], CultureInfo.InvariantCulture);

    private static string? TryLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
