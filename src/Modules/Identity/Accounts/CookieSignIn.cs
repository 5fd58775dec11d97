using System.Security.Cryptography;
using Conclave.Identity.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;

namespace Conclave.Identity.Accounts;

/// <summary>
/// The account pages' sign-ins. The password check is throttled (<see cref="SignInThrottle"/>), gives one
/// answer for every way it fails (unknown user, wrong password, locked, throttled) so user names cannot be
/// told apart, takes about the same time for an unknown user as for a wrong password, and locks no one out.
/// </summary>
internal sealed class CookieSignIn(
    SignInManager<IdentityUser> signIn,
    UserManager<IdentityUser> users,
    IPasswordHasher<IdentityUser> hasher,
    SignInThrottle throttle,
    UserAccounts accounts) : ISignIn
{
    /// <summary>The one answer to every failed sign-in.</summary>
    public const string Refused = "Wrong user name or password, or too many tries. Check them and try again in a minute.";

    // Verifying a password against this costs what verifying a real one does.
    private static readonly Lazy<string> NobodysHash = new(() =>
        new PasswordHasher<IdentityUser>().HashPassword(new IdentityUser(), Convert.ToHexString(RandomNumberGenerator.GetBytes(16))));

    public async Task<string?> PasswordAsync(HttpContext http, string userName, string password)
    {
        if (throttle.AdmitPasswordCheck(http, userName) is { } wait)
        {
            http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            SignInThrottle.SetRetryAfter(http.Response, wait);
            return Refused;
        }

        var user = await users.FindByNameAsync(userName);
        if (user is null)
        {
            hasher.VerifyHashedPassword(new IdentityUser(), NobodysHash.Value, password);
            return Refused;
        }

        // No lockout on failure: the throttle slows guessing down, and a stranger cannot lock the user out.
        var result = await signIn.PasswordSignInAsync(user, password, isPersistent: false, lockoutOnFailure: false);
        if (!result.Succeeded)
        {
            return Refused;
        }

        throttle.PasswordCheckSucceeded(http, userName);
        return null;
    }

    public async Task<IReadOnlyList<string>> RegisterAsync(HttpContext http, NewAccount account)
    {
        // Registering checks no password: only the budget per client address applies.
        if (throttle.AdmitRequest(http) is { } wait)
        {
            http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            var seconds = SignInThrottle.SetRetryAfter(http.Response, wait);
            return [$"Too many tries from your network. Try again in {seconds} s."];
        }

        var (user, errors) = await accounts.RegisterAsync(account.UserName, account.Email, account.Password, account.InvitationCode, http.RequestAborted);
        if (user is null)
        {
            return errors;
        }

        await signIn.SignInAsync(user, isPersistent: false);
        return [];
    }

    public async Task<IReadOnlyList<string>> ChangePasswordAsync(HttpContext http, string currentPassword, string newPassword)
    {
        var user = await users.GetUserAsync(http.User);
        if (user is null)
        {
            return ["Your account no longer exists. Sign in again."];
        }

        var result = await users.ChangePasswordAsync(user, currentPassword, newPassword);
        if (!result.Succeeded)
        {
            return [.. result.Errors.Select(e => e.Description)];
        }

        // The security stamp changed: renew this browser's cookie, other sign-ins lapse.
        await signIn.RefreshSignInAsync(user);
        return [];
    }

    public async Task<IReadOnlyList<ExternalProvider>> ExternalProvidersAsync() =>
        [.. (await signIn.GetExternalAuthenticationSchemesAsync()).Select(s => new ExternalProvider(s.Name, s.DisplayName ?? s.Name))];
}
