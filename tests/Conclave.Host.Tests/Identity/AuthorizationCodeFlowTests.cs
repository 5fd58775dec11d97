using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Sessions.Contracts;
using Conclave.Testing.Host;
using Microsoft.AspNetCore.WebUtilities;

namespace Conclave.Host.Tests.Identity;

/// <summary>The OpenID Connect server driven over HTTP as a client library would: discovery, code + PKCE, refresh, revocation.</summary>
[Collection(SharedHost.Name)]
public sealed class AuthorizationCodeFlowTests(ConclaveApp app)
{
    [Fact]
    public async Task Discovery_publishes_the_endpoints_s256_only_and_the_signing_keys()
    {
        using var anonymous = app.CreateAnonymousClient();
        using var discovery = JsonDocument.Parse(await anonymous.GetStringAsync("/.well-known/openid-configuration"));
        var root = discovery.RootElement;

        Assert.EndsWith("/connect/authorize", root.GetProperty("authorization_endpoint").GetString());
        Assert.EndsWith("/connect/token", root.GetProperty("token_endpoint").GetString());
        Assert.EndsWith("/connect/revoke", root.GetProperty("revocation_endpoint").GetString());
        Assert.EndsWith("/connect/userinfo", root.GetProperty("userinfo_endpoint").GetString());
        Assert.Equal(["S256"], root.GetProperty("code_challenge_methods_supported").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("conclave.write", root.GetProperty("scopes_supported").EnumerateArray().Select(e => e.GetString()));

        using var jwks = JsonDocument.Parse(await anonymous.GetStringAsync(new Uri(root.GetProperty("jwks_uri").GetString()!).PathAndQuery));
        Assert.NotEmpty(jwks.RootElement.GetProperty("keys").EnumerateArray());
    }

    [Fact]
    public async Task The_code_flow_issues_tokens_that_act_as_the_signed_in_user()
    {
        var user = await app.CreateUserAsync("flow-user");

        var tokens = await app.SignInForTokensAsync("flow-user");

        Assert.Equal("Bearer", tokens.TokenType);
        Assert.NotNull(tokens.RefreshToken);
        Assert.NotNull(tokens.IdToken);
        using var api = app.CreateBearerClient(tokens.AccessToken);
        var created = await api.PostAsJsonAsync("/api/v1/sessions", new { title = "by token" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var session = (await created.Content.ReadFromJsonAsync<SessionSummary>(Json.Options))!;
        Assert.Equal(user.Id, session.OwnerId);

        using var userInfo = JsonDocument.Parse(await api.GetStringAsync("/connect/userinfo"));
        Assert.Equal(user.Id, userInfo.RootElement.GetProperty("sub").GetString());
        Assert.Equal("flow-user", userInfo.RootElement.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Refreshing_rotates_the_refresh_token_and_the_old_one_is_rejected()
    {
        await app.CreateUserAsync("refresh-user");
        var first = await app.SignInForTokensAsync("refresh-user");
        using var client = app.CreateAnonymousClient();

        var second = await OidcFlow.TokensAsync(await RefreshAsync(client, first.RefreshToken!));

        Assert.NotEqual(first.RefreshToken, second.RefreshToken);
        using var api = app.CreateBearerClient(second.AccessToken);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/v1/sessions")).StatusCode);

        var replay = await RefreshAsync(client, first.RefreshToken!);
        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.Contains("invalid_grant", await replay.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_revoked_access_token_is_rejected_by_the_api()
    {
        await app.CreateUserAsync("revoke-user");
        var tokens = await app.SignInForTokensAsync("revoke-user");
        using var api = app.CreateBearerClient(tokens.AccessToken);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/v1/sessions")).StatusCode);
        using var client = app.CreateAnonymousClient();

        var revoked = await client.PostAsync("/connect/revoke", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = ConclaveApp.TestClientId,
            ["token"] = tokens.AccessToken,
            ["token_type_hint"] = "access_token",
        }));

        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync("/api/v1/sessions")).StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("plain")]
    public async Task A_public_client_without_s256_pkce_gets_no_code(string? method)
    {
        await app.CreateUserAsync("pkce-user-" + (method ?? "none"));
        using var browser = app.CreateCookieClient();
        await OidcFlow.SignInAsync(browser, "pkce-user-" + (method ?? "none"), ConclaveApp.Password);
        var pkce = OidcFlow.Pkce.Create();

        var answer = await browser.GetAsync(OidcFlow.AuthorizeUrl(
            ConclaveApp.TestClientId, ConclaveApp.TestRedirectUri, OidcFlow.ApiScopes, method is null ? null : pkce, method ?? "S256"));

        // OpenIddict refuses it at once (400, the error in the body): no redirect, so no code.
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Null(answer.Headers.Location);
        Assert.Contains("invalid_request", await answer.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_unsigned_in_authorize_request_is_sent_to_the_login_page_and_back()
    {
        await app.CreateUserAsync("return-user");
        using var browser = app.CreateCookieClient();
        var pkce = OidcFlow.Pkce.Create();
        var authorize = OidcFlow.AuthorizeUrl(ConclaveApp.TestClientId, ConclaveApp.TestRedirectUri, OidcFlow.ApiScopes, pkce);

        var toLogin = await browser.GetAsync(authorize);
        Assert.Equal(HttpStatusCode.Redirect, toLogin.StatusCode);
        Assert.Equal("/login", toLogin.Headers.Location!.AbsolutePath);
        var returnUrl = QueryHelpers.ParseQuery(toLogin.Headers.Location.Query)["ReturnUrl"].ToString();

        var signedIn = await OidcFlow.SignInAsync(browser, "return-user", ConclaveApp.Password, returnUrl);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var code = OidcFlow.CodeFrom(await browser.GetAsync(signedIn.Headers.Location!.OriginalString), ConclaveApp.TestRedirectUri);
        var tokens = await OidcFlow.RedeemAsync(browser, ConclaveApp.TestClientId, ConclaveApp.TestRedirectUri, code, pkce.Verifier);
        Assert.False(string.IsNullOrEmpty(tokens.AccessToken));
    }

    [Fact]
    public async Task A_code_redeemed_with_the_wrong_verifier_is_refused()
    {
        await app.CreateUserAsync("verifier-user");
        using var browser = app.CreateCookieClient();
        await OidcFlow.SignInAsync(browser, "verifier-user", ConclaveApp.Password);
        var pkce = OidcFlow.Pkce.Create();
        var code = OidcFlow.CodeFrom(
            await browser.GetAsync(OidcFlow.AuthorizeUrl(ConclaveApp.TestClientId, ConclaveApp.TestRedirectUri, OidcFlow.ApiScopes, pkce)),
            ConclaveApp.TestRedirectUri);

        var refused = await OidcFlow.TokenRequestAsync(browser, new()
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = ConclaveApp.TestClientId,
            ["redirect_uri"] = ConclaveApp.TestRedirectUri.ToString(),
            ["code"] = code,
            ["code_verifier"] = OidcFlow.Pkce.Create().Verifier,
        });

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
    }

    [Fact]
    public async Task A_read_only_token_may_read_but_not_write()
    {
        await app.CreateUserAsync("reader");
        var tokens = await app.SignInForTokensAsync("reader", "openid conclave.read");
        using var api = app.CreateBearerClient(tokens.AccessToken);

        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/v1/sessions")).StatusCode);
        var write = await api.PostAsJsonAsync("/api/v1/sessions", new { title = "nope" });
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
    }

    [Fact]
    public async Task A_machine_client_gets_a_token_with_client_credentials_and_owns_its_sessions()
    {
        var secret = await app.RegisterClientAsync("integration", redirectUri: null, confidential: true);
        using var client = app.CreateAnonymousClient();

        var tokens = await OidcFlow.TokensAsync(await OidcFlow.TokenRequestAsync(client, new()
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = "integration",
            ["client_secret"] = secret!,
            ["scope"] = "conclave.read conclave.write",
        }));

        using var api = app.CreateBearerClient(tokens.AccessToken);
        var created = await api.PostAsJsonAsync("/api/v1/sessions", new { title = "from a machine" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("client:integration", (await created.Content.ReadFromJsonAsync<SessionSummary>(Json.Options))!.OwnerId);
        var wrongSecret = await OidcFlow.TokenRequestAsync(client, new()
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = "integration",
            ["client_secret"] = "not-the-secret",
        });
        Assert.Equal(HttpStatusCode.Unauthorized, wrongSecret.StatusCode);
    }

    [Fact]
    public async Task The_cookie_and_a_token_of_one_user_are_the_same_owner_and_cookie_writes_need_the_antiforgery_token()
    {
        await app.CreateUserAsync("both-ways");
        using var browser = app.CreateCookieClient();
        await OidcFlow.SignInAsync(browser, "both-ways", ConclaveApp.Password);
        var page = await browser.GetStringAsync("/");
        var antiforgery = OidcFlow.AntiforgeryToken(page);

        var withoutToken = await browser.PostAsJsonAsync("/api/v1/sessions", new { title = "forged?" });
        Assert.Equal(HttpStatusCode.BadRequest, withoutToken.StatusCode);
        Assert.Contains("antiforgery", await withoutToken.Content.ReadAsStringAsync());

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/sessions") { Content = JsonContent.Create(new { title = "from the browser" }) };
        request.Headers.Add("RequestVerificationToken", antiforgery);
        var created = await browser.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var session = (await created.Content.ReadFromJsonAsync<SessionSummary>(Json.Options))!;

        var tokens = await OidcFlow.AuthorizeAsync(browser, ConclaveApp.TestClientId, ConclaveApp.TestRedirectUri);
        using var api = app.CreateBearerClient(tokens.AccessToken);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync($"/api/v1/sessions/{session.Id}")).StatusCode);
    }

    private static Task<HttpResponseMessage> RefreshAsync(HttpClient client, string refreshToken) =>
        OidcFlow.TokenRequestAsync(client, new()
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = ConclaveApp.TestClientId,
            ["refresh_token"] = refreshToken,
        });
}
