using System.Net;
using System.Net.Http.Headers;
using Conclave.Testing;

namespace Conclave.Host.Tests.Observability;

/// <summary><c>/metrics</c> is Prometheus' with the scrape token, nobody's without it, and has the GenAI and Conclave metrics after a run.</summary>
[Collection(ObservedHost.Name)]
public sealed class MetricsEndpointTests(ObservedApp app)
{
    [Theory]
    [InlineData(null)]
    [InlineData("Bearer not-the-scrape-token-at-all")]
    [InlineData("Basic c2NyYXBlOnRva2Vu")]
    public async Task A_scrape_without_the_token_gets_401_and_no_metrics(string? authorization)
    {
        using var client = app.CreateAnonymousClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        if (authorization is not null)
        {
            request.Headers.Authorization = AuthenticationHeaderValue.Parse(authorization);
        }

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain("# TYPE", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task With_the_token_a_scrape_after_a_run_has_the_gen_ai_and_conclave_metrics()
    {
        var session = await app.CreateSessionAsync("metrics");
        app.Provider.Enqueue(Reply.Text("Forty-two.").WithUsage(120, 30));
        var posted = await app.PostMessageAsync(session.Id, "What is six times seven?");
        await app.WaitForRunEndAsync(session.Id, posted.RunId, TimeSpan.FromSeconds(60));

        var text = await app.ScrapeAsync();

        Assert.True(PrometheusText.Has(text, "gen_ai_client_token_usage_bucket", ("gen_ai_token_type", "input"), ("gen_ai_operation_name", "chat")), text);
        Assert.True(PrometheusText.Has(text, "gen_ai_client_token_usage_sum", ("gen_ai_token_type", "output"), ("gen_ai_request_model", "scripted-model")), text);
        Assert.True(PrometheusText.Has(text, "gen_ai_client_operation_duration_seconds_count"), text);
        Assert.True(PrometheusText.Has(text, "conclave_gen_ai_time_to_first_token_seconds_count"), text);
        Assert.True(PrometheusText.Has(text, "conclave_runs_ended_total", ("outcome", "completed"), ("reason", "answer")), text);
        Assert.True(PrometheusText.Has(text, "conclave_run_step_overhead_milliseconds_count", ("kind", "message")), text);
        Assert.True(PrometheusText.Has(text, "conclave_tokens_total", ("team", "Assistant"), ("agent", "Assistant")), text);
        Assert.True(PrometheusText.Has(text, "http_server_request_duration_seconds_count"), text);
    }
}
