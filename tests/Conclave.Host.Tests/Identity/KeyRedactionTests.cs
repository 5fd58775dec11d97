using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conclave.Host.Tests.Identity;

/// <summary>A Host that logs everything, down to Trace, into <see cref="Logs"/>.</summary>
public sealed class LoggedApp : ConclaveApp
{
    public CapturedLogs Logs { get; } = new();

    protected override void ConfigureHost(IWebHostBuilder builder) =>
        builder.ConfigureLogging(logging =>
        {
            logging.SetMinimumLevel(LogLevel.Trace);
            logging.AddProvider(Logs);
            logging.AddFilter<CapturedLogs>(null, LogLevel.Trace);
        });
}

public sealed class KeyRedactionTests(LoggedApp app) : IClassFixture<LoggedApp>
{
    [Fact]
    public async Task The_provider_key_reaches_the_provider_and_no_log_line_or_response()
    {
        var session = await app.CreateSessionAsync("keys");
        app.Provider.Enqueue(Reply.Chunks("Hello ", "there."));
        var index = app.Provider.Requests.Count;

        var posted = await app.PostMessageAsync(session.Id, "Say hello");
        // Logging everything at Trace makes the Host slow: generous deadlines.
        var request = await app.Provider.WaitForRequestAsync(index, TimeSpan.FromSeconds(60));
        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId, TimeSpan.FromSeconds(60));

        Assert.IsType<RunCompleted>(end.Data);
        Assert.Equal("Bearer " + ConclaveApp.ProviderKey, request.Authorization);
        var responses = new[]
        {
            await app.Client.GetStringAsync($"/api/v1/sessions/{session.Id}"),
            await app.Client.GetStringAsync($"/api/v1/sessions/{session.Id}/events"),
            await app.Client.GetStringAsync("/api/v1/sessions"),
            await app.Client.GetStringAsync($"/sessions/{session.Id}"),
        };
        Assert.All(responses, body => Assert.DoesNotContain(ConclaveApp.ProviderKey, body));
        // The logs are real: the run's HTTP call was logged (with its headers, redacted) at Trace level.
        Assert.Contains(app.Logs.Lines, line => line.Contains("System.Net.Http.HttpClient", StringComparison.Ordinal));
        Assert.DoesNotContain(app.Logs.Lines, line => line.Contains(ConclaveApp.ProviderKey, StringComparison.Ordinal));
        // Nor a recognisable part of it.
        Assert.DoesNotContain(app.Logs.Lines, line => line.Contains(ConclaveApp.ProviderKey[..16], StringComparison.Ordinal));
    }
}
