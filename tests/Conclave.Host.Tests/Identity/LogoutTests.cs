using System.Net;
using System.Text.RegularExpressions;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Identity;

/// <summary>Only a POST with this site's antiforgery token signs out: no other site, link or image can.</summary>
[Collection(SharedHost.Name)]
public sealed partial class LogoutTests(ConclaveApp app)
{
    [Theory]
    [InlineData("/connect/logout")]
    [InlineData("/connect/logout?client_id=conclave-tests&state=xyz")]
    [InlineData("/account/logout")]
    [InlineData("/logout")]
    public async Task A_cross_site_get_to_a_logout_path_leaves_the_user_signed_in(string path)
    {
        using var browser = await SignedInBrowserAsync("get-" + new string([.. path.Where(char.IsLetter)]));
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Sec-Fetch-Site", "cross-site");
        request.Headers.Referrer = new Uri("https://evil.example/");

        var answer = await browser.SendAsync(request);

        Assert.NotEqual(HttpStatusCode.InternalServerError, answer.StatusCode);
        Assert.DoesNotContain(SetCookies(answer), c => c.StartsWith("conclave.auth=;", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task A_logout_post_without_the_antiforgery_token_is_refused_and_leaves_the_user_signed_in()
    {
        using var browser = await SignedInBrowserAsync("post-without-token");

        var ui = await browser.PostAsync("/account/logout", new FormUrlEncodedContent([]));
        var oidc = await browser.PostAsync("/connect/logout", new FormUrlEncodedContent([]));
        var forged = await browser.PostAsync("/connect/logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = "forged",
        }));

        Assert.Equal(HttpStatusCode.BadRequest, ui.StatusCode);
        Assert.Equal("/logout", oidc.Headers.Location?.OriginalString);
        Assert.Equal("/logout", forged.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task The_user_menus_log_out_form_signs_out()
    {
        using var browser = await SignedInBrowserAsync("menu-user");
        var home = await browser.GetStringAsync("/");
        Assert.Matches("<form action=\"account/logout\" method=\"post\"", home);

        var loggedOut = await browser.PostAsync("/account/logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = OidcFlow.AntiforgeryToken(home),
        }));

        Assert.Equal(HttpStatusCode.Redirect, loggedOut.StatusCode);
        Assert.Equal("/login", (await browser.GetAsync("/")).Headers.Location?.AbsolutePath);
    }

    [Fact]
    public async Task A_clients_logout_request_is_confirmed_on_our_page_then_signs_out()
    {
        using var browser = await SignedInBrowserAsync("client-logout");

        // The client's own page posts the end-session request (RP-initiated logout): no token of ours.
        var asked = await browser.PostAsync("/connect/logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = ConclaveApp.TestClientId,
            ["state"] = "client-state",
        }));
        Assert.Equal(HttpStatusCode.Redirect, asked.StatusCode);
        var confirm = await browser.GetAsync(asked.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/")).StatusCode);

        var page = await confirm.Content.ReadAsStringAsync();
        var fields = HiddenInput().Matches(page)
            .Where(m => m.Groups[1].Value != "__RequestVerificationToken")
            .ToDictionary(m => m.Groups[1].Value, m => WebUtility.HtmlDecode(m.Groups[2].Value));
        Assert.Equal(ConclaveApp.TestClientId, fields["client_id"]);
        Assert.Equal("client-state", fields["state"]);
        fields["__RequestVerificationToken"] = OidcFlow.AntiforgeryToken(page);
        var confirmed = await browser.PostAsync("/connect/logout", new FormUrlEncodedContent(fields));

        Assert.Equal(HttpStatusCode.Redirect, confirmed.StatusCode);
        Assert.Contains(SetCookies(confirmed), c => c.StartsWith("conclave.auth=;", StringComparison.Ordinal));
        Assert.Equal("/login", (await browser.GetAsync("/")).Headers.Location?.AbsolutePath);
    }

    private async Task<HttpClient> SignedInBrowserAsync(string userName)
    {
        await app.CreateUserAsync(userName);
        var browser = app.CreateCookieClient();
        Assert.Equal(HttpStatusCode.Redirect, (await OidcFlow.SignInAsync(browser, userName, ConclaveApp.Password)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/")).StatusCode);
        return browser;
    }

    private static IEnumerable<string> SetCookies(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : [];

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\"")]
    private static partial Regex HiddenInput();
}
