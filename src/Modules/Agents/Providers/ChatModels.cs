using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;
using OpenAI;

namespace Conclave.Agents.Providers;

/// <summary>Builds Semantic Kernel chat services for OpenAI-compatible providers, over the module's HttpClient.</summary>
internal sealed class ChatModels(IHttpClientFactory httpClients, ILoggerFactory loggers)
{
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
                RetryPolicy = new ClientRetryPolicy(provider.MaxRetries),
                NetworkTimeout = provider.IdleTimeout,
            });
        return new OpenAIChatCompletionService(provider.Model, client, loggers);
    }
}
