using System.ClientModel;
using System.ClientModel.Primitives;
using Conclave.Egress;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;
using OpenAI;

namespace Conclave.Agents.Providers;

/// <summary>Builds Semantic Kernel chat services for OpenAI-compatible providers, over the module's HttpClient.</summary>
internal sealed class ChatModels(IHttpClientFactory httpClients, ILoggerFactory loggers)
{
    /// <summary>The HttpClient of model calls: its connections go through the egress policy (<see cref="ModelEgress"/>).</summary>
    public const string HttpClientName = "model-provider";

    public IChatCompletionService Create(ResolvedProvider provider)
    {
        var client = new OpenAIClient(
            // A keyless endpoint (a local Ollama) still needs a credential object; it ignores the value.
            new ApiKeyCredential(string.IsNullOrEmpty(provider.ApiKey) ? "no-key" : provider.ApiKey),
            new OpenAIClientOptions
            {
                Endpoint = provider.BaseUrl,
                Transport = new HttpClientPipelineTransport(httpClients.CreateClient(HttpClientName)),
                RetryPolicy = new ProviderRetryPolicy(provider.MaxRetries),
                NetworkTimeout = provider.IdleTimeout,
            });
        return new OpenAIChatCompletionService(provider.Model, client, loggers);
    }

    /// <summary>The SDK's retries (429, 5xx, transport errors), except for what the egress policy refused: asking again changes nothing.</summary>
    private sealed class ProviderRetryPolicy(int maxRetries) : ClientRetryPolicy(maxRetries)
    {
        protected override bool ShouldRetry(PipelineMessage message, Exception? exception) =>
            !Refused(exception) && base.ShouldRetry(message, exception);

        protected override ValueTask<bool> ShouldRetryAsync(PipelineMessage message, Exception? exception) =>
            Refused(exception) ? ValueTask.FromResult(false) : base.ShouldRetryAsync(message, exception);

        private static bool Refused(Exception? exception)
        {
            for (var e = exception; e is not null; e = e.InnerException)
            {
                if (e is EgressRefusedException)
                {
                    return true;
                }
            }

            return false;
        }
    }
}
