using System.Net;
using Conclave.Testing.Host;
using Microsoft.AspNetCore.WebUtilities;
using ModelContextProtocol.Authentication;
using ModelContextProtocol.Client;

namespace Conclave.Host.Tests.Mcp;

/// <summary>
/// An MCP client of the SDK, signing in as a user would: the SDK finds our authorization server from the 401's
/// protected-resource metadata, runs code + PKCE with the resource parameter, and the "browser" (a cookie client
/// signed in through the login form) follows the authorize URL to the redirect carrying the code.
/// </summary>
internal sealed class McpSignIn : IAsyncDisposable
{
    private readonly HttpClient _browser;

    private McpSignIn(HttpClient browser) => _browser = browser;

    public McpClient Client { get; private set; } = null!;

    /// <summary>Where the SDK keeps the tokens it obtained (a test replays them elsewhere).</summary>
    public TokenHolder Tokens { get; } = new();

    /// <summary>The authorize URLs the SDK sent the user to.</summary>
    public List<Uri> Authorizations { get; } = [];

    public static async Task<McpSignIn> ConnectAsync(McpApp app, string userName)
    {
        var signIn = new McpSignIn(app.CreateCookieClient());
        var login = await OidcFlow.SignInAsync(signIn._browser, userName, ConclaveApp.Password);
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = app.McpEndpoint,
            Name = "conclave-tests",
            OAuth = new ClientOAuthOptions
            {
                // Registered by an admin (OpenIddict 7 has no dynamic client registration; ADR 0020).
                ClientId = McpApp.McpClientId,
                RedirectUri = McpApp.McpRedirectUri,
                TokenCache = signIn.Tokens,
                AuthorizationCallbackHandler = signIn.AuthorizeAsync,
            },
        });
        signIn.Client = await McpClient.CreateAsync(transport);
        return signIn;
    }

    private async Task<AuthorizationResult?> AuthorizeAsync(AuthorizationCallbackContext context, CancellationToken cancellationToken)
    {
        Authorizations.Add(context.AuthorizationUri);
        var redirect = await _browser.GetAsync(context.AuthorizationUri, cancellationToken);
        var location = redirect.Headers.Location;
        Assert.True(redirect.StatusCode == HttpStatusCode.Redirect && location is not null, $"authorize answered {(int)redirect.StatusCode}");
        Assert.StartsWith(McpApp.McpRedirectUri.ToString(), location!.ToString(), StringComparison.Ordinal);
        var query = QueryHelpers.ParseQuery(location.Query);
        return new AuthorizationResult
        {
            Code = query["code"],
            State = query["state"],
            Iss = query.TryGetValue("iss", out var iss) ? iss.ToString() : null,
        };
    }

    /// <summary>The SDK's token cache, kept here so a test can read the token it obtained.</summary>
    public sealed class TokenHolder : ITokenCache
    {
        private TokenContainer? _tokens;

        public ValueTask StoreTokensAsync(TokenContainer tokens, CancellationToken cancellationToken)
        {
            _tokens = tokens;
            return ValueTask.CompletedTask;
        }

        public ValueTask<TokenContainer?> GetTokensAsync(CancellationToken cancellationToken) => ValueTask.FromResult(_tokens);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        _browser.Dispose();
    }
}
