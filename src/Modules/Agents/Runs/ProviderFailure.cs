using System.ClientModel;
using Conclave.Agents.Providers;

namespace Conclave.Agents.Runs;

/// <summary>Says in the user's words why a call to a model provider failed, and what to do.</summary>
internal static class ProviderFailure
{
    public static string Describe(Exception exception, ResolvedProvider provider)
    {
        var status = (exception as ClientResultException)?.Status
            ?? (exception.InnerException as ClientResultException)?.Status ?? 0;
        var who = $"The model provider '{provider.Name}' at {provider.BaseUrl.Host}";
        return status switch
        {
            401 or 403 => $"{who} rejected the API key ({status}). Check the key configured for the provider '{provider.Name}'.",
            404 => $"{who} does not know the model '{provider.Model}' or the path (404). Check the model name and base URL.",
            429 => $"{who} kept answering 'too many requests' (429) after retries. Try again later or raise the provider's limits.",
            >= 500 => $"{who} failed ({status}) after retries. Try again later.",
            _ when exception is HttpRequestException or IOException || exception.InnerException is HttpRequestException or IOException =>
                $"The connection to the {who[4..]} failed or was cut mid-answer. Check that it is reachable and try again.",
            _ when exception is TimeoutException or TaskCanceledException => $"{who} stopped answering. Try again later.",
            _ => $"The model call to '{provider.Name}' failed: {exception.GetType().Name}.",
        };
    }
}
