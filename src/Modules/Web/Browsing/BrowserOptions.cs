using System.ComponentModel.DataAnnotations;
using Conclave.Egress;
using Microsoft.Extensions.Options;

namespace Conclave.Web.Browsing;

/// <summary>The agents' browser (<c>Conclave:Browser</c>): which Chromium, as whom, and its limits.</summary>
public sealed class BrowserOptions
{
    public const string Section = "Conclave:Browser";

    /// <summary>Debian's Chromium (Playwright's own download cannot work offline).</summary>
    [Required]
    public string ExecutablePath { get; set; } = "/usr/bin/chromium";

    /// <summary>
    /// The user Chromium runs as when the Host runs as root, so that Chromium's own sandbox stays on
    /// (docs/adr/0018-browser-sandbox.md). <c>scripts/chromium.sh install</c> creates it.
    /// </summary>
    [Required]
    public string SandboxUser { get; set; } = "conclave-browser";

    /// <summary>Sessions browsing at once on this node (one browser context each).</summary>
    [Range(1, 1000)]
    public int MaxContexts { get; set; } = 16;

    /// <summary>Open pages (tabs, pop-ups) per session; a page opened beyond it is closed at once.</summary>
    [Range(1, 50)]
    public int MaxPagesPerContext { get; set; } = 4;

    /// <summary>How long one tool call may take (navigation included).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A session's context is closed after this long without a call (its cookies go with it).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Characters of a page <c>read_page</c> returns at most.</summary>
    [Range(1_000, 1_000_000)]
    public int MaxReadChars { get; set; } = 20_000;

    /// <summary>A download larger than this is refused (the workspace quota applies as well).</summary>
    [Range(1, long.MaxValue)]
    public long MaxDownloadBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>
    /// Entries allowed for the browser only, besides <c>Conclave:Egress:AllowList</c> (same forms:
    /// <c>host:port</c>, an address or CIDR range with an optional port), e.g. an intranet wiki.
    /// </summary>
    public List<string> AllowList { get; set; } = [];

    /// <summary>
    /// Entries denied to the browser whatever allows them: a domain (<c>example.com</c>, with its subdomains),
    /// an address or CIDR range (<c>198.51.100.0/24</c>), judged on the address connected to.
    /// </summary>
    public List<string> DenyList { get; set; } = [];
}

internal sealed class BrowserOptionsValidator : IValidateOptions<BrowserOptions>
{
    public ValidateOptionsResult Validate(string? name, BrowserOptions options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.AllowList.Count; i++)
        {
            if (!EgressRule.TryParse(options.AllowList[i], out _, out var error))
            {
                failures.Add($"{BrowserOptions.Section}:AllowList:{i} ('{options.AllowList[i]}'): {error}");
            }
        }

        for (var i = 0; i < options.DenyList.Count; i++)
        {
            if (!EgressDenyRule.TryParse(options.DenyList[i], out _, out var error))
            {
                failures.Add($"{BrowserOptions.Section}:DenyList:{i} ('{options.DenyList[i]}'): {error} Entries are a domain (example.com), an address or a CIDR range (198.51.100.0/24).");
            }
        }

        if (!Path.IsPathFullyQualified(options.ExecutablePath))
        {
            failures.Add($"{BrowserOptions.Section}:ExecutablePath must be an absolute path (e.g. /usr/bin/chromium).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
