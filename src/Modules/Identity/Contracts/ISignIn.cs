using Microsoft.AspNetCore.Http;

namespace Conclave.Identity.Contracts;

/// <summary>
/// Signing in from the static server-rendered account pages (login, register, account): each takes the
/// page's request, because signing in writes the cookie to its response (and a throttled try answers
/// 429 with <c>Retry-After</c> there).
/// </summary>
public interface ISignIn
{
    /// <summary>
    /// Checks the password under the sign-in throttle and signs in with the cookie. Null when signed in, else
    /// the one message every failure shows (unknown user, wrong password, locked, throttled alike).
    /// </summary>
    Task<string?> PasswordAsync(HttpContext http, string userName, string password);

    /// <summary>Registers under the registration rules and signs the new user in; the errors say what to fix (empty when signed in).</summary>
    Task<IReadOnlyList<string>> RegisterAsync(HttpContext http, NewAccount account);

    /// <summary>Changes the signed-in user's password and renews this browser's cookie (their other sign-ins lapse); the errors say what to fix.</summary>
    Task<IReadOnlyList<string>> ChangePasswordAsync(HttpContext http, string currentPassword, string newPassword);

    /// <summary>The external sign-in providers configured (Google, GitHub); none when unconfigured.</summary>
    Task<IReadOnlyList<ExternalProvider>> ExternalProvidersAsync();
}

/// <param name="InvitationCode">Needed when registration is by invitation (and it is not the first account).</param>
public sealed record NewAccount(string UserName, string? Email, string Password, string? InvitationCode);

/// <param name="Name">The scheme posted to <c>/account/external/{Name}</c>.</param>
public sealed record ExternalProvider(string Name, string DisplayName);
