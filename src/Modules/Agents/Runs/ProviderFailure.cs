using System.ClientModel;

namespace Conclave.Agents.Runs;

/// <summary>Says in the user's words why a call to the model provider failed, and what to do.</summary>
internal static class ProviderFailure
{
    public static string Describe(Exception exception, Uri baseUrl)
    {
        var status = (exception as ClientResultException)?.Status
            ?? (exception.InnerException as ClientResultException)?.Status ?? 0;
        return status switch
        {
            401 or 403 => $"The model provider at {baseUrl.Host} rejected the API key ({status}). Check the key configured for this provider.",
            404 => $"The model provider at {baseUrl.Host} does not know the configured model or path (404). Check the model name and base URL.",
            429 => $"The model provider at {baseUrl.Host} kept answering 'too many requests' (429) after retries. Try again later or raise the provider's limits.",
            >= 500 => $"The model provider at {baseUrl.Host} failed ({status}) after retries. Try again later.",
            _ when exception is HttpRequestException or IOException || exception.InnerException is HttpRequestException or IOException =>
                $"The connection to the model provider at {baseUrl.Host} failed or was cut mid-answer. Check that it is reachable and try again.",
            _ when exception is TimeoutException or TaskCanceledException =>
                $"The model provider at {baseUrl.Host} stopped answering. Try again later.",
            _ => $"The model call failed: {exception.GetType().Name}.",
        };
    }
}
