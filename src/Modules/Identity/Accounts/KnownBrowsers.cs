using System.Security.Cryptography;
using Conclave.Identity.Contracts;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

namespace Conclave.Identity.Accounts;

/// <summary>
/// A cookie saying "this browser signed in as this user before" (OWASP's device cookie): the sign-in
/// throttle gives such a browser its own failure budget, so strangers guessing a user's password do not
/// slow the user down in their own browser. It holds one user, the last to sign in with a password, and
/// proves nothing but that (it signs no one in).
/// </summary>
internal sealed class KnownBrowsers(IKeyRing keyRing, IHostEnvironment environment)
{
    public const string Cookie = "conclave.known";

    private static readonly TimeSpan Lifetime = TimeSpan.FromDays(180);

    private readonly ITimeLimitedDataProtector _protector =
        keyRing.ProtectorFor("Conclave.Identity.KnownBrowser").ToTimeLimitedDataProtector();

    /// <summary>This browser's id when its cookie says it signed in as <paramref name="normalizedUserName"/>; else null.</summary>
    public string? IdFor(HttpContext http, string normalizedUserName)
    {
        if (!http.Request.Cookies.TryGetValue(Cookie, out var value) || string.IsNullOrEmpty(value))
        {
            return null;
        }

        try
        {
            var parts = _protector.Unprotect(value).Split('\n', 2);
            return parts.Length == 2 && parts[1] == normalizedUserName ? parts[0] : null;
        }
        catch (CryptographicException)
        {
            // Forged, expired or from a lost key ring: a stranger's browser.
            return null;
        }
    }

    public void Remember(HttpContext http, string normalizedUserName, string? id)
    {
        var development = environment.IsDevelopment() || environment.IsEnvironment("Testing");
        var value = _protector.Protect($"{id ?? Convert.ToHexString(RandomNumberGenerator.GetBytes(16))}\n{normalizedUserName}", Lifetime);
        http.Response.Cookies.Append(Cookie, value, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = !development || http.Request.IsHttps,
            // Only the login form reads it.
            Path = http.Request.PathBase + "/login",
            MaxAge = Lifetime,
            IsEssential = true,
        });
    }
}
