using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Conclave.Testing.Host;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Host.Tests.Identity;

/// <summary>
/// A Host whose sign-in throttle bites early: 5 free failures per user name and address, then a wait of a
/// minute (so a test never outruns it); 12 failures per user name an hour; 40 sign-in requests per address a minute.
/// </summary>
public sealed class ThrottledApp : ConclaveApp
{
    public const int FreeFailures = 5;
    public const int UserNameFailureLimit = 12;
    public const int AddressPermitLimit = 40;

    protected override void AddSettings(IDictionary<string, string> settings)
    {
        settings["Conclave:Identity:SignInThrottle:FreeFailures"] = FreeFailures.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Conclave:Identity:SignInThrottle:FirstDelay"] = "00:01:00";
        settings["Conclave:Identity:SignInThrottle:MaxDelay"] = "00:15:00";
        settings["Conclave:Identity:SignInThrottle:UserNameFailureLimit"] = UserNameFailureLimit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Conclave:Identity:SignInThrottle:FailureWindow"] = "01:00:00";
        settings["Conclave:Identity:SignInThrottle:AddressPermitLimit"] = AddressPermitLimit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Conclave:Identity:SignInThrottle:AddressWindow"] = "00:01:00";
    }
}

/// <summary>Each test uses its own user names and client addresses: the throttle's counts outlive a test.</summary>
public sealed partial class SignInThrottleTests(ThrottledApp app) : IClassFixture<ThrottledApp>
{
    [Fact]
    public async Task Twenty_wrong_passwords_from_one_address_get_429_after_the_free_ones_and_the_owner_still_signs_in_from_another_address()
    {
        await app.CreateUserAsync("victim");
        using var attacker = app.CreateCookieClient(IPAddress.Parse("203.0.113.10"));

        for (var attempt = 0; attempt < 20; attempt++)
        {
            var answer = await OidcFlow.SignInAsync(attacker, "victim", "Wrong-Password-" + attempt);
            Assert.Contains(SignInTests.Refused, await answer.Content.ReadAsStringAsync());
            if (attempt < ThrottledApp.FreeFailures)
            {
                Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            }
            else
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, answer.StatusCode);
                Assert.InRange(answer.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 60);
            }
        }

        // A throttled try is not checked at all, so even the right password does not get through from there.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await OidcFlow.SignInAsync(attacker, "victim", ConclaveApp.Password)).StatusCode);
        using var owner = app.CreateCookieClient(IPAddress.Parse("198.51.100.10"));
        Assert.Equal(HttpStatusCode.Redirect, (await OidcFlow.SignInAsync(owner, "victim", ConclaveApp.Password)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task Unknown_user_wrong_password_locked_account_and_throttled_sign_ins_show_byte_identical_messages()
    {
        await app.CreateUserAsync("enumerated");
        await app.CreateUserAsync("locked-by-admin");
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<IdentityUser>>();
            await users.SetLockoutEndDateAsync((await users.FindByNameAsync("locked-by-admin"))!, DateTimeOffset.UtcNow.AddDays(1));
        }

        using var client = app.CreateCookieClient(IPAddress.Parse("203.0.113.20"));

        var unknown = await OidcFlow.SignInAsync(client, "nobody-by-this-name", "Wrong-Password-1");
        var lockedOut = await OidcFlow.SignInAsync(client, "locked-by-admin", ConclaveApp.Password);
        var wrong = await OidcFlow.SignInAsync(client, "enumerated", "Wrong-Password-1");
        for (var attempt = 1; attempt < ThrottledApp.FreeFailures; attempt++)
        {
            await OidcFlow.SignInAsync(client, "enumerated", "Wrong-Password-1");
        }

        var throttled = await OidcFlow.SignInAsync(client, "enumerated", ConclaveApp.Password);

        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        var message = await LoginErrorAsync(wrong);
        Assert.Equal(SignInTests.Refused, message);
        Assert.Equal(message, await LoginErrorAsync(unknown));
        Assert.Equal(message, await LoginErrorAsync(lockedOut));
        Assert.Equal(message, await LoginErrorAsync(throttled));
    }

    [Fact]
    public async Task A_browser_that_signed_in_before_still_signs_in_when_strangers_used_up_the_user_names_failures()
    {
        await app.CreateUserAsync("popular");
        using var usual = app.CreateCookieClient(IPAddress.Parse("198.51.100.30"));
        Assert.Equal(HttpStatusCode.Redirect, (await OidcFlow.SignInAsync(usual, "popular", ConclaveApp.Password)).StatusCode);
        await LogOutAsync(usual);

        // Three strangers stay under the per-address budget and together use up the user name's.
        for (var stranger = 0; stranger < 3; stranger++)
        {
            using var client = app.CreateCookieClient(IPAddress.Parse($"203.0.113.{31 + stranger}"));
            for (var attempt = 0; attempt < ThrottledApp.UserNameFailureLimit / 3; attempt++)
            {
                Assert.Equal(HttpStatusCode.OK, (await OidcFlow.SignInAsync(client, "popular", "Wrong-Password-" + attempt)).StatusCode);
            }
        }

        using var newcomer = app.CreateCookieClient(IPAddress.Parse("203.0.113.39"));
        var refused = await OidcFlow.SignInAsync(newcomer, "popular", ConclaveApp.Password);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero);

        Assert.Equal(HttpStatusCode.Redirect, (await OidcFlow.SignInAsync(usual, "popular", ConclaveApp.Password)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await usual.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task Too_many_authorize_requests_from_one_address_get_429_with_retry_after_and_other_addresses_do_not()
    {
        using var flooder = app.CreateCookieClient(IPAddress.Parse("203.0.113.50"));
        var authorize = OidcFlow.AuthorizeUrl(ConclaveApp.TestClientId, ConclaveApp.TestRedirectUri, OidcFlow.ApiScopes, OidcFlow.Pkce.Create());

        for (var request = 0; request < ThrottledApp.AddressPermitLimit; request++)
        {
            Assert.Equal(HttpStatusCode.Redirect, (await flooder.GetAsync(authorize)).StatusCode);
        }

        var refused = await flooder.GetAsync(authorize);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.InRange(refused.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 60);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        using var other = app.CreateCookieClient(IPAddress.Parse("198.51.100.50"));
        Assert.Equal(HttpStatusCode.Redirect, (await other.GetAsync(authorize)).StatusCode);
    }

    [Fact]
    public async Task Failed_token_requests_from_one_address_slow_down_with_429_in_the_oauth_error_shape()
    {
        using var guesser = app.CreateCookieClient(IPAddress.Parse("203.0.113.60"));

        for (var attempt = 0; attempt < ThrottledApp.FreeFailures; attempt++)
        {
            var wrong = await RefreshAsync(guesser, "made-up-refresh-token-" + attempt);
            Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
            Assert.Contains("invalid_grant", await wrong.Content.ReadAsStringAsync());
        }

        var refused = await RefreshAsync(guesser, "made-up-refresh-token");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.InRange(refused.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 60);
        Assert.True(refused.Headers.CacheControl?.NoStore);
        using (var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()))
        {
            Assert.Equal("temporarily_unavailable", error.RootElement.GetProperty("error").GetString());
            Assert.Contains("Try again in", error.RootElement.GetProperty("error_description").GetString());
        }

        using var other = app.CreateCookieClient(IPAddress.Parse("198.51.100.60"));
        Assert.Equal(HttpStatusCode.BadRequest, (await RefreshAsync(other, "made-up-refresh-token")).StatusCode);
    }

    [Fact]
    public async Task Registering_from_one_address_is_limited_like_signing_in()
    {
        using var registrar = app.CreateCookieClient(IPAddress.Parse("203.0.113.70"));
        var weak = new Dictionary<string, string>
        {
            ["Input.UserName"] = "spammer",
            ["Input.Password"] = "passwordpassword",
            ["Input.ConfirmPassword"] = "passwordpassword",
        };

        for (var attempt = 0; attempt < ThrottledApp.AddressPermitLimit; attempt++)
        {
            Assert.Equal(HttpStatusCode.OK, (await OidcFlow.PostFormAsync(registrar, "/register", "register", weak)).StatusCode);
        }

        var refused = await OidcFlow.PostFormAsync(registrar, "/register", "register", weak);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.InRange(refused.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 60);
        Assert.Contains("Too many tries from your network", await refused.Content.ReadAsStringAsync());
    }

    private static async Task<string> LoginErrorAsync(HttpResponseMessage response)
    {
        var error = LoginError().Match(await response.Content.ReadAsStringAsync());
        Assert.True(error.Success, "The login page shows no error.");
        return error.Groups[1].Value;
    }

    private static async Task LogOutAsync(HttpClient browser)
    {
        var home = await browser.GetStringAsync("/");
        var loggedOut = await browser.PostAsync("/account/logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = OidcFlow.AntiforgeryToken(home),
        }));
        Assert.Equal(HttpStatusCode.Redirect, loggedOut.StatusCode);
    }

    private static Task<HttpResponseMessage> RefreshAsync(HttpClient client, string refreshToken) =>
        OidcFlow.TokenRequestAsync(client, new()
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = ConclaveApp.TestClientId,
            ["refresh_token"] = refreshToken,
        });

    [GeneratedRegex("data-testid=\"login-error\">([^<]*)</p>")]
    private static partial Regex LoginError();
}
