using System.ClientModel;
using OpenAI.Chat;
using Xunit;

namespace Conclave.Testing.Tests;

public sealed class ErrorTests : ScriptedServerTest
{
    [Fact]
    public async Task Error_401_reaches_the_sdk_as_a_client_result_exception()
    {
        Server.Enqueue(Reply.Error(401, "Invalid API key"));

        var error = await Assert.ThrowsAsync<ClientResultException>(() => StreamAsync(Client(), "hi"));

        Assert.Equal(401, error.Status);
        Assert.Contains("Invalid API key", error.Message);
    }

    [Fact]
    public async Task Error_429_carries_retry_after()
    {
        Server.Enqueue(Reply.Error(429).RetryAfter(TimeSpan.FromSeconds(1)));

        var error = await Assert.ThrowsAsync<ClientResultException>(
            () => Client().CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(429, error.Status);
        var headers = error.GetRawResponse()!.Headers;
        Assert.True(headers.TryGetValue("Retry-After", out var retryAfter));
        Assert.Equal("1", retryAfter);
        Assert.True(headers.TryGetValue("retry-after-ms", out var retryAfterMs));
        Assert.Equal("1000", retryAfterMs);
    }

    [Fact]
    public async Task The_sdk_retries_after_429_and_gets_the_next_scripted_reply()
    {
        Server.Enqueue(Reply.Error(429).RetryAfter(TimeSpan.Zero), Reply.Text("after retry"));

        var text = TextOf(await StreamAsync(Client(sdkRetries: true), "hi"));

        Assert.Equal("after retry", text);
        Assert.Equal(2, Server.Requests.Count);
    }

    [Fact]
    public async Task Error_500_reaches_the_sdk_with_its_status()
    {
        Server.Enqueue(Reply.Error(500));

        var error = await Assert.ThrowsAsync<ClientResultException>(() => StreamAsync(Client(), "hi"));

        Assert.Equal(500, error.Status);
    }

    [Fact]
    public async Task A_throwing_responder_is_recorded_as_a_fault()
    {
        Server.RespondWith(_ => throw new InvalidOperationException("script bug"));

        var error = await Assert.ThrowsAsync<ClientResultException>(() => StreamAsync(Client(), "hi"));

        Assert.Equal(500, error.Status);
        var request = await Server.WaitForRequestAsync(0, Deadline);
        Assert.Equal(RequestOutcome.Faulted, await request.WaitUntilFinishedAsync(Deadline));
        Assert.Equal("script bug", request.Fault?.Message);
    }
}
