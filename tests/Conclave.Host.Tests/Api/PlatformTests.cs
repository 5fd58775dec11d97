using System.Net;
using System.Text.Json;
using Conclave.Testing.Host;
using Microsoft.Extensions.Configuration;

namespace Conclave.Host.Tests.Api;

[Collection(SharedHost.Name)]
public sealed class PlatformTests(ConclaveApp app)
{
    [Fact]
    public async Task The_liveness_endpoint_answers_healthy()
    {
        var response = await app.Client.GetAsync("/health/live");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_readiness_endpoint_says_how_each_dependency_is()
    {
        var response = await app.Client.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var report = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var checks = report.RootElement.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!);
        Assert.Equal("Healthy", checks["postgresql"].GetProperty("status").GetString());
        // No sandbox has started in this Host yet: its limits are checked in the first one.
        Assert.Equal("Degraded", checks["sandbox"].GetProperty("status").GetString());
        Assert.Contains("first", checks["sandbox"].GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal("Healthy", checks["models"].GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_openapi_document_describes_the_session_api()
    {
        using var document = JsonDocument.Parse(await app.Client.GetStringAsync("/openapi/v1.json"));

        var paths = document.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/v1/sessions/{sessionId}/messages", out _));
        Assert.True(paths.TryGetProperty("/api/v1/sessions/{sessionId}/stream", out _));
        Assert.True(paths.TryGetProperty("/api/v1/sessions/{sessionId}/events", out _));
    }

    [Fact]
    public async Task Unknown_api_routes_answer_with_problem_details()
    {
        var response = await app.Client.GetAsync("/api/v1/nothing-here");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public void Each_test_host_uses_its_own_fresh_database()
    {
        var used = app.Service<IConfiguration>().GetConnectionString("Conclave");

        Assert.Equal(app.ConnectionString, used);
        Assert.Contains("Database=t_host_", used);
    }

    [Fact]
    public async Task The_session_list_page_renders()
    {
        var html = await app.Client.GetStringAsync("/");

        Assert.Contains("Your sessions", html);
    }
}
