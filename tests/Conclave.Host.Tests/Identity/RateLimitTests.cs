using System.Net;
using System.Text.Json;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Identity;

/// <summary>A Host allowing each user 5 API requests a minute.</summary>
public sealed class RateLimitedApp : ConclaveApp
{
    public const int Limit = 5;

    protected override void AddSettings(IDictionary<string, string> settings)
    {
        settings["Conclave:RateLimits:PermitLimit"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Conclave:RateLimits:Window"] = "00:01:00";
    }
}

public sealed class RateLimitTests(RateLimitedApp app) : IClassFixture<RateLimitedApp>
{
    [Fact]
    public async Task Too_many_requests_answer_429_with_retry_after_and_other_users_are_unaffected()
    {
        using var greedy = await app.CreateUserClientAsync("greedy");
        using var patient = await app.CreateUserClientAsync("patient");

        for (var i = 0; i < RateLimitedApp.Limit; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await greedy.GetAsync("/api/v1/sessions")).StatusCode);
        }

        var refused = await greedy.GetAsync("/api/v1/sessions");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value.TotalSeconds, 1, 60);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        Assert.Contains("Try again in", problem.RootElement.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, (await patient.GetAsync("/api/v1/sessions")).StatusCode);
    }
}
