using System.Net;
using Conclave.Testing.Host;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Host.Tests.Identity;

[Collection(SharedHost.Name)]
public sealed class SignInTests(ConclaveApp app)
{
    /// <summary>The login page's one answer to every failed sign-in.</summary>
    public const string Refused = "Wrong user name or password, or too many tries. Check them and try again in a minute.";

    [Fact]
    public async Task Repeated_bad_passwords_from_a_stranger_never_lock_the_account()
    {
        await app.CreateUserAsync("guessed");
        using var stranger = app.CreateCookieClient(IPAddress.Parse("203.0.113.1"));

        for (var attempt = 0; attempt < 5; attempt++)
        {
            var wrong = await OidcFlow.SignInAsync(stranger, "guessed", "Wrong-Password-" + attempt);
            Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        }

        using var owner = app.CreateCookieClient(IPAddress.Parse("198.51.100.1"));
        Assert.Equal(HttpStatusCode.Redirect, (await OidcFlow.SignInAsync(owner, "guessed", ConclaveApp.Password)).StatusCode);
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<IdentityUser>>();
        var guessed = (await users.FindByNameAsync("guessed"))!;
        Assert.False(await users.IsLockedOutAsync(guessed));
        Assert.Equal(0, await users.GetAccessFailedCountAsync(guessed));
    }

    [Fact]
    public async Task A_wrong_password_says_so_and_sets_no_cookie()
    {
        await app.CreateUserAsync("mistyped");
        using var browser = app.CreateCookieClient();

        var response = await OidcFlow.SignInAsync(browser, "mistyped", "Not-The-Password-1");

        Assert.Contains(Refused, await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task Registering_with_a_weak_password_explains_the_rules()
    {
        using var browser = app.CreateCookieClient();

        var response = await OidcFlow.PostFormAsync(browser, "/register", "register", new()
        {
            ["Input.UserName"] = "weakling",
            ["Input.Password"] = "passwordpassword",
            ["Input.ConfirmPassword"] = "passwordpassword",
        });

        var html = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("uppercase", html);
    }

    [Fact]
    public async Task Registering_signs_in_and_the_logout_signs_out()
    {
        using var browser = app.CreateCookieClient();

        var registered = await OidcFlow.PostFormAsync(browser, "/register", "register", new()
        {
            ["Input.UserName"] = "newcomer",
            ["Input.Email"] = "",
            ["Input.Password"] = ConclaveApp.Password,
            ["Input.ConfirmPassword"] = ConclaveApp.Password,
        });
        Assert.Equal(HttpStatusCode.Redirect, registered.StatusCode);
        var home = await browser.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        var html = await home.Content.ReadAsStringAsync();
        Assert.Contains("newcomer", html);

        var loggedOut = await browser.PostAsync("/account/logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = OidcFlow.AntiforgeryToken(html),
        }));
        Assert.Equal(HttpStatusCode.Redirect, loggedOut.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/")).StatusCode);
    }
}

[Collection(SharedHost.Name)]
public sealed class AccountPageTests(ConclaveApp app)
{
    [Fact]
    public async Task Changing_the_password_keeps_this_browser_signed_in_and_the_old_password_stops_working()
    {
        await app.CreateUserAsync("changer");
        using var browser = app.CreateCookieClient();
        await OidcFlow.SignInAsync(browser, "changer", ConclaveApp.Password);
        const string NewPassword = "Another-Strong-7-Secret";

        var changed = await OidcFlow.PostFormAsync(browser, "/account", "change-password", new()
        {
            ["Input.Current"] = ConclaveApp.Password,
            ["Input.New"] = NewPassword,
            ["Input.Confirm"] = NewPassword,
        });

        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Contains("Your password was changed.", await changed.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/account")).StatusCode);
        using var other = app.CreateCookieClient();
        Assert.Contains(SignInTests.Refused, await (await OidcFlow.SignInAsync(other, "changer", ConclaveApp.Password)).Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Redirect, (await OidcFlow.SignInAsync(other, "changer", NewPassword)).StatusCode);
    }

    [Fact]
    public async Task A_wrong_current_password_changes_nothing_and_says_so()
    {
        await app.CreateUserAsync("careful");
        using var browser = app.CreateCookieClient();
        await OidcFlow.SignInAsync(browser, "careful", ConclaveApp.Password);

        var refused = await OidcFlow.PostFormAsync(browser, "/account", "change-password", new()
        {
            ["Input.Current"] = "Not-The-Password-1",
            ["Input.New"] = "Another-Strong-7-Secret",
            ["Input.Confirm"] = "Another-Strong-7-Secret",
        });

        Assert.Contains("Incorrect password", await refused.Content.ReadAsStringAsync());
        using var other = app.CreateCookieClient();
        Assert.Equal(HttpStatusCode.Redirect, (await OidcFlow.SignInAsync(other, "careful", ConclaveApp.Password)).StatusCode);
    }
}
