using System.Globalization;
using Microsoft.Playwright;

namespace Conclave.Web.Browsing;

/// <summary>
/// How Chromium is started so that its own OS sandbox stays on (docs/adr/0018-browser-sandbox.md). Chromium
/// refuses to sandbox itself as root, so a Host running as root starts it through a generated wrapper that
/// hands Playwright's profile folder to <see cref="BrowserOptions.SandboxUser"/> and <c>setpriv</c>s to that
/// user with no capabilities and an empty environment (the Host's may hold secrets). A Host that is not
/// root starts Chromium directly. Either way Playwright's <c>--no-sandbox</c> is never passed.
/// </summary>
internal sealed class SandboxedChromium : IDisposable
{
    /// <summary>
    /// Chromium's flags beyond the proxy: nothing besides pages talks to the network, Chromium resolves no
    /// name itself (only the proxy, an address, is reached), WebRTC sends no UDP outside the proxy.
    /// </summary>
    public static readonly IReadOnlyList<string> Flags =
    [
        "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--disable-quic", "--disable-domain-reliability", "--no-pings", "--disable-breakpad",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
        "--webrtc-ip-handling-policy=disable_non_proxied_udp",
        "--disable-features=WebRtcHideLocalIpsWithMdns,MediaRouter,DialMediaRouteProvider,OptimizationHints,AutofillServerCommunication,InterestFeedContentSuggestions",
    ];

    private readonly DirectoryInfo _root;
    private readonly string? _home;

    private SandboxedChromium(DirectoryInfo root, string executable, string downloads, string? user, string? home = null)
    {
        _root = root;
        _home = home;
        Executable = executable;
        Downloads = downloads;
        User = user;
    }

    /// <summary>What Playwright launches: Chromium itself, or the wrapper.</summary>
    public string Executable { get; }

    /// <summary>Where Chromium writes downloads (owned by the user it runs as).</summary>
    public string Downloads { get; }

    /// <summary>"conclave-browser (uid 995)" when dropped to a user, null when the Host is not root.</summary>
    public string? User { get; }

    public static SandboxedChromium Prepare(BrowserOptions options)
    {
        if (!File.Exists(options.ExecutablePath))
        {
            throw new BrowserUnavailableException($"There is no Chromium at {options.ExecutablePath}; install it (scripts/chromium.sh install) or set {BrowserOptions.Section}:ExecutablePath.");
        }

        var root = Directory.CreateTempSubdirectory("conclave-browser-");
        var downloads = Directory.CreateDirectory(Path.Combine(root.FullName, "downloads")).FullName;
        if (!Environment.IsPrivilegedProcess || !OperatingSystem.IsLinux())
        {
            return new SandboxedChromium(root, options.ExecutablePath, downloads, null);
        }

        var (uid, gid) = Account(options.SandboxUser)
            ?? throw new BrowserUnavailableException(
                $"The Host runs as root, so Chromium runs as the user {options.SandboxUser} to keep its sandbox on, and there is no such user. " +
                $"Create it (scripts/chromium.sh install does: useradd --system {options.SandboxUser}) or set {BrowserOptions.Section}:SandboxUser.");
        // The user passes through the root folder (0711) to its own home and downloads; the wrapper stays root's.
        root.UnixFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        var home = Directory.CreateDirectory(Path.Combine(root.FullName, "home")).FullName;
        var wrapper = Path.Combine(root.FullName, "chromium-sandboxed");
        var ids = $"{uid.ToString(CultureInfo.InvariantCulture)}:{gid.ToString(CultureInfo.InvariantCulture)}";
        File.WriteAllText(wrapper, $"""
            #!/bin/sh
            # Written by Conclave (Conclave.Web, SandboxedChromium): Chromium as {options.SandboxUser}, its own sandbox on.
            set -eu
            chown {ids} '{home}' '{downloads}'
            for arg in "$@"; do
              case "$arg" in --user-data-dir=*) chown -R {ids} -- "${"{"}arg#--user-data-dir={"}"}" ;; esac
            done
            exec /usr/bin/setpriv --reuid={uid} --regid={gid} --clear-groups --inh-caps=-all --bounding-set=-all -- \
              /usr/bin/env -i HOME='{home}' PATH=/usr/bin:/bin LANG=C.UTF-8 '{options.ExecutablePath}' "$@"

            """);
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new SandboxedChromium(root, wrapper, downloads, $"{options.SandboxUser} (uid {uid})", home);
    }

    public BrowserTypeLaunchOptions LaunchOptions(Uri proxy) => new()
    {
        ExecutablePath = Executable,
        Headless = true,
        ChromiumSandbox = true,
        DownloadsPath = Downloads,
        Args = [.. Flags],
        // Anything outside a session's context (none is made) would meet the proxy without credentials: 407.
        Proxy = new Proxy { Server = proxy.ToString(), Bypass = "<-loopback>" },
        HandleSIGINT = false,
        HandleSIGTERM = false,
        HandleSIGHUP = false,
    };

    /// <summary>
    /// This instance's Chromium processes: those whose environment has the home the wrapper gives Chromium, and
    /// their descendants (sandboxed ones cannot always be told by their environment). Empty when not root.
    /// </summary>
    public IReadOnlyList<int> ProcessIds()
    {
        if (_home is null)
        {
            return [];
        }

        var marker = System.Text.Encoding.UTF8.GetBytes($"HOME={_home}\0");
        var parents = new Dictionary<int, int>();
        var found = new HashSet<int>();
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                // "pid (comm) state ppid ...": the name may hold spaces and parentheses, the last ')' ends it.
                var stat = File.ReadAllText(Path.Combine(folder, "stat"));
                parents[pid] = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                if (File.ReadAllBytes(Path.Combine(folder, "environ")).AsSpan().IndexOf(marker) >= 0)
                {
                    found.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                // Gone meanwhile, or not ours to read.
            }
        }

        bool added;
        do
        {
            added = false;
            foreach (var (pid, parent) in parents)
            {
                if (found.Contains(parent) && found.Add(pid))
                {
                    added = true;
                }
            }
        }
        while (added);

        return [.. found.Order()];
    }

    /// <summary>uid and gid from /etc/passwd (no NSS lookups: a system user is local).</summary>
    private static (int Uid, int Gid)? Account(string user)
    {
        foreach (var line in File.ReadLines("/etc/passwd"))
        {
            var fields = line.Split(':');
            if (fields.Length >= 4 && fields[0] == user
                && int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var uid)
                && int.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var gid)
                && uid != 0)
            {
                return (uid, gid);
            }
        }

        return null;
    }

    public void Dispose()
    {
        try
        {
            _root.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>The browser cannot run as configured; the message says what to do.</summary>
internal sealed class BrowserUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
