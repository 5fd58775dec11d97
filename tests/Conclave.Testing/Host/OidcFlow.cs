using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;

namespace Conclave.Testing.Host;

/// <summary>The tokens the token endpoint returned.</summary>
public sealed record TokenSet(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("refresh_token")] string? RefreshToken,
    [property: JsonPropertyName("id_token")] string? IdToken,
    [property: JsonPropertyName("expires_in")] int ExpiresIn,
    [property: JsonPropertyName("token_type")] string TokenType);

/// <summary>
/// What a browser and an OIDC client library do, over plain HTTP: sign in through the login form
/// (with its antiforgery token), then the authorization code flow with PKCE (S256).
/// </summary>
public static partial class OidcFlow
{
    public const string ApiScopes = "openid profile offline_access conclave.read conclave.write";

    /// <summary>Posts the login form; the client must keep cookies and not follow redirects. Returns the form's answer.</summary>
    public static async Task<HttpResponseMessage> SignInAsync(HttpClient cookieClient, string userName, string password, string? returnUrl = null)
    {
        var path = returnUrl is null ? "/login" : "/login?ReturnUrl=" + Uri.EscapeDataString(returnUrl);
        return await PostFormAsync(cookieClient, path, "login", new()
        {
            ["Input.UserName"] = userName,
            ["Input.Password"] = password,
        });
    }

    /// <summary>GETs a static SSR page and posts its form (named by Blazor's <c>_handler</c>) with the page's antiforgery token.</summary>
    public static async Task<HttpResponseMessage> PostFormAsync(HttpClient cookieClient, string path, string formName, Dictionary<string, string> fields)
    {
        var page = await cookieClient.GetAsync(path);
        if (page.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"GET {path} answered {(int)page.StatusCode}.");
        }

        var html = await page.Content.ReadAsStringAsync();
        var form = new Dictionary<string, string>(fields)
        {
            ["_handler"] = formName,
            ["__RequestVerificationToken"] = AntiforgeryToken(html),
        };
        return await cookieClient.PostAsync(path, new FormUrlEncodedContent(form));
    }

    public static string AntiforgeryToken(string html)
    {
        var input = TokenInput().Match(html);
        if (!input.Success)
        {
            throw new InvalidOperationException("The page has no antiforgery token.");
        }

        return WebUtility.HtmlDecode(ValueAttribute().Match(input.Value).Groups[1].Value);
    }

    public sealed record Pkce(string Verifier, string Challenge)
    {
        public static Pkce Create()
        {
            var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
            return new Pkce(verifier, Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
        }
    }

    /// <summary>The authorize request a client sends (the user is signed in with the cookie client).</summary>
    public static string AuthorizeUrl(string clientId, Uri redirectUri, string scope, Pkce? pkce, string method = "S256", string state = "xyz") =>
        QueryHelpers.AddQueryString("/connect/authorize", new Dictionary<string, string?>
        {
            ["client_id"] = clientId,
            ["redirect_uri"] = redirectUri.ToString(),
            ["response_type"] = "code",
            ["scope"] = scope,
            ["state"] = state,
            ["code_challenge"] = pkce is null ? null : method == "plain" ? pkce.Verifier : pkce.Challenge,
            ["code_challenge_method"] = pkce is null ? null : method,
        }.Where(p => p.Value is not null));

    /// <summary>Authorization code + PKCE, start to finish: the code from the redirect, exchanged at the token endpoint.</summary>
    public static async Task<TokenSet> AuthorizeAsync(HttpClient cookieClient, string clientId, Uri redirectUri, string scope = ApiScopes)
    {
        var pkce = Pkce.Create();
        var redirect = await cookieClient.GetAsync(AuthorizeUrl(clientId, redirectUri, scope, pkce));
        var code = CodeFrom(redirect, redirectUri);
        return await RedeemAsync(cookieClient, clientId, redirectUri, code, pkce.Verifier);
    }

    public static string CodeFrom(HttpResponseMessage redirect, Uri redirectUri)
    {
        var location = redirect.Headers.Location;
        if (redirect.StatusCode != HttpStatusCode.Redirect || location is null
            || !location.ToString().StartsWith(redirectUri.ToString(), StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"The authorize request answered {(int)redirect.StatusCode} to {location}, not a redirect with a code.");
        }

        var query = QueryHelpers.ParseQuery(location.Query);
        return query.TryGetValue("code", out var code)
            ? code.ToString()
            : throw new InvalidOperationException($"No code in {location}.");
    }

    public static async Task<TokenSet> RedeemAsync(HttpClient client, string clientId, Uri redirectUri, string code, string verifier)
    {
        var response = await TokenRequestAsync(client, new()
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = clientId,
            ["redirect_uri"] = redirectUri.ToString(),
            ["code"] = code,
            ["code_verifier"] = verifier,
        });
        return await TokensAsync(response);
    }

    public static Task<HttpResponseMessage> TokenRequestAsync(HttpClient client, Dictionary<string, string> form) =>
        client.PostAsync("/connect/token", new FormUrlEncodedContent(form));

    public static async Task<TokenSet> TokensAsync(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"The token endpoint answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        return (await response.Content.ReadFromJsonAsync<TokenSet>())!;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [GeneratedRegex("<input[^>]*name=\"__RequestVerificationToken\"[^>]*>")]
    private static partial Regex TokenInput();

    [GeneratedRegex("value=\"([^\"]*)\"")]
    private static partial Regex ValueAttribute();
}
