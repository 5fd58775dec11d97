using System.Net;
using System.Text.Json;
using Conclave.Testing.Host;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;

namespace Conclave.Host.Tests.Identity;

/// <summary>Signing keys and the Data Protection key ring live in PostgreSQL: a restarted (or second) Host honours what the first issued.</summary>
public sealed class RestartTests(ConclaveApp app) : IClassFixture<ConclaveApp>
{
    [Fact]
    public async Task A_second_host_on_the_same_database_publishes_the_same_keys_and_accepts_the_first_hosts_token_and_cookie()
    {
        await app.CreateUserAsync("survivor");
        var tokens = await app.SignInForTokensAsync("survivor");
        var cookies = await app.SignInCookiesAsync("survivor");
        using var anonymous = app.CreateAnonymousClient();
        var jwks = await anonymous.GetStringAsync("/.well-known/jwks");

        await using var restarted = app.Factory.WithWebHostBuilder(_ => { });
        using var second = restarted.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        Assert.Equal(Kids(jwks), Kids(await second.GetStringAsync("/.well-known/jwks")));
        using var bearer = new HttpRequestMessage(HttpMethod.Get, "/api/v1/sessions");
        bearer.Headers.Authorization = new("Bearer", tokens.AccessToken);
        Assert.Equal(HttpStatusCode.OK, (await second.SendAsync(bearer)).StatusCode);
        using var page = new HttpRequestMessage(HttpMethod.Get, "/");
        page.Headers.Add("Cookie", string.Join("; ", cookies.Select(c => $"{c.Key}={c.Value}")));
        Assert.Equal(HttpStatusCode.OK, (await second.SendAsync(page)).StatusCode);

        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM identity.\"DataProtectionKeys\"", connection);
        Assert.True((long)(await count.ExecuteScalarAsync())! >= 1);
    }

    private static IReadOnlyList<string> Kids(string jwks)
    {
        using var document = JsonDocument.Parse(jwks);
        return [.. document.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()!).Order()];
    }
}
