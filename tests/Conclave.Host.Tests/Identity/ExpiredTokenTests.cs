using System.Net;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Identity;

/// <summary>A Host whose access tokens live two seconds.</summary>
public sealed class ShortTokenApp : ConclaveApp
{
    protected override void AddSettings(IDictionary<string, string> settings) =>
        settings["Conclave:Identity:AccessTokenLifetime"] = "00:00:02";
}

public sealed class ExpiredTokenTests(ShortTokenApp app) : IClassFixture<ShortTokenApp>
{
    [Fact]
    public async Task An_expired_access_token_is_rejected()
    {
        await app.CreateUserAsync("short-lived");
        var tokens = await app.SignInForTokensAsync("short-lived");
        using var api = app.CreateBearerClient(tokens.AccessToken);
        Assert.InRange(tokens.ExpiresIn, 1, 2);

        await Eventually.Until(
            async () => (await api.GetAsync("/api/v1/sessions")).StatusCode == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(30),
            "the token expires after two seconds");
    }
}
