using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;

namespace Conclave.Host.Identity;

/// <summary>
/// The login form's password check: throttled (<see cref="SignInThrottle"/>), one answer for every way
/// it fails (unknown user, wrong password, locked, throttled) so user names cannot be told apart, about
/// the same time for an unknown user as for a wrong password, and no lockout a stranger could trigger.
/// </summary>
internal sealed class PasswordSignIn(
    SignInManager<IdentityUser> signIn,
    UserManager<IdentityUser> users,
    IPasswordHasher<IdentityUser> hasher,
    SignInThrottle throttle)
{
    /// <summary>The one answer to every failed sign-in.</summary>
    public const string Refused = "Wrong user name or password, or too many tries. Check them and try again in a minute.";

    // Verifying a password against this costs what verifying a real one does.
    private static readonly Lazy<string> NobodysHash = new(() =>
        new PasswordHasher<IdentityUser>().HashPassword(new IdentityUser(), Convert.ToHexString(RandomNumberGenerator.GetBytes(16))));

    /// <summary>Signs the user in with the cookie; false (and 429 with Retry-After when throttled) otherwise.</summary>
    public async Task<bool> SignInAsync(HttpContext http, string userName, string password)
    {
        if (throttle.AdmitPasswordCheck(http, userName) is { } wait)
        {
            http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            SignInThrottle.SetRetryAfter(http.Response, wait);
            return false;
        }

        var user = await users.FindByNameAsync(userName);
        if (user is null)
        {
            hasher.VerifyHashedPassword(new IdentityUser(), NobodysHash.Value, password);
            return false;
        }

        // No lockout on failure: the throttle slows guessing down, and a stranger cannot lock the user out.
        var result = await signIn.PasswordSignInAsync(user, password, isPersistent: false, lockoutOnFailure: false);
        if (!result.Succeeded)
        {
            return false;
        }

        throttle.PasswordCheckSucceeded(http, userName);
        return true;
    }
}
