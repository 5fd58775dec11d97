using System.ClientModel;
using System.ClientModel.Primitives;
using OpenAI;
using OpenAI.Chat;
using Xunit;

namespace Conclave.Testing.Tests;

/// <summary>Each test gets its own server, so scripts and recordings never leak between tests.</summary>
public abstract class ScriptedServerTest : IAsyncLifetime
{
    protected const string ApiKey = "fake-scripted-test-key";
    protected static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private ScriptedOpenAiServer? _server;

    protected ScriptedOpenAiServer Server => _server ?? throw new InvalidOperationException("Server not started.");

    public async Task InitializeAsync() => _server = await ScriptedOpenAiServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>The real OpenAI SDK client pointed at the scripted server; no retries unless asked for.</summary>
    protected ChatClient Client(bool sdkRetries = false) => new(
        "gpt-4o-mini",
        new ApiKeyCredential(ApiKey),
        new OpenAIClientOptions
        {
            Endpoint = Server.BaseUrl,
            RetryPolicy = sdkRetries ? null : new ClientRetryPolicy(maxRetries: 0),
        });

    protected static async Task<List<StreamingChatCompletionUpdate>> StreamAsync(
        ChatClient client, string prompt, CancellationToken cancellationToken = default)
    {
        var updates = new List<StreamingChatCompletionUpdate>();
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage(prompt)], cancellationToken: cancellationToken))
        {
            updates.Add(update);
        }

        return updates;
    }

    protected static string TextOf(IEnumerable<StreamingChatCompletionUpdate> updates) =>
        string.Concat(updates.SelectMany(update => update.ContentUpdate).Select(part => part.Text));
}
