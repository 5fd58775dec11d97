using System.Net;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Identity;

/// <summary>A Host on a real socket: Kestrel refuses headers the in-memory server lets through (non-ASCII, control characters).</summary>
public sealed class KestrelApp() : ConclaveApp(kestrel: true);

/// <summary>Whatever a return URL holds, signing in lands on this site: at the URL when it is a plain local path, else at home.</summary>
public sealed class ReturnUrlTests(KestrelApp app) : IClassFixture<KestrelApp>
{
    public static TheoryData<string> MalformedReturnUrls() =>
    [
        "/\u3000",
        "/sessions\u3000/evil",
        "\u3000/evil.com",
        "//evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        "javascript:alert(1)",
        "https://evil.com/",
        "http://localhost.evil.com/",
        "/ok\r\nSet-Cookie: x=1",
        "/tab\there",
        "/nul\0",
        "/é",
        " /leading-space",
        "/" + new string('a', 5000),
    ];

    [Theory]
    [MemberData(nameof(MalformedReturnUrls))]
    public async Task Signing_in_with_a_malformed_return_url_lands_at_home(string returnUrl)
    {
        using var browser = app.CreateCookieClient();

        var page = await browser.GetAsync("/login?ReturnUrl=" + Uri.EscapeDataString(returnUrl));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var signedIn = await OidcFlow.SignInAsync(browser, ConclaveApp.DefaultUserName, ConclaveApp.Password, returnUrl);

        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal(app.BaseAddress, new Uri(app.BaseAddress, signedIn.Headers.Location!));
    }

    [Theory]
    [MemberData(nameof(MalformedReturnUrls))]
    public async Task Registering_with_a_malformed_return_url_lands_at_home(string returnUrl)
    {
        using var browser = app.CreateCookieClient();
        var path = "/register?ReturnUrl=" + Uri.EscapeDataString(returnUrl);

        var registered = await OidcFlow.PostFormAsync(browser, path, "register", new()
        {
            ["Input.UserName"] = "returner-" + Guid.NewGuid().ToString("N")[..8],
            ["Input.Password"] = ConclaveApp.Password,
            ["Input.ConfirmPassword"] = ConclaveApp.Password,
        });

        Assert.Equal(HttpStatusCode.Redirect, registered.StatusCode);
        Assert.Equal(app.BaseAddress, new Uri(app.BaseAddress, registered.Headers.Location!));
    }

    [Theory]
    [InlineData("/sessions")]
    [InlineData("/connect/authorize?client_id=conclave-tests&scope=openid%20profile")]
    public async Task A_local_return_url_is_followed(string returnUrl)
    {
        using var browser = app.CreateCookieClient();

        var signedIn = await OidcFlow.SignInAsync(browser, ConclaveApp.DefaultUserName, ConclaveApp.Password, returnUrl);

        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal(new Uri(app.BaseAddress, returnUrl), new Uri(app.BaseAddress, signedIn.Headers.Location!));
    }
}
