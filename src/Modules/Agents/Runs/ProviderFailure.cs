using System.ClientModel;
using System.Net.Sockets;
using Conclave.Agents.Providers;
using Conclave.Egress;

namespace Conclave.Agents.Runs;

/// <summary>Says in the user's words why a call to a model provider failed, and what to do.</summary>
internal static class ProviderFailure
{
    /// <summary>Stands for the provider when a run failed before any model call.</summary>
    public static readonly ResolvedProvider Unknown = new(null, "model provider", new Uri("http://unknown/"), "", null, null, null, 0, TimeSpan.Zero);

    public static string Describe(Exception exception, ResolvedProvider provider)
    {
        var who = $"The model provider '{provider.Name}' at {provider.BaseUrl.Host}";
        if (Find<EgressRefusedException>(exception) is { } refused)
        {
            return $"{who} was refused by the egress policy: {refused.Reason}. Use a provider on the internet, " +
                "or ask an admin to allow this endpoint (Conclave:Egress:AllowList).";
        }

        if (Find<OversizedEventException>(exception) is { } oversized)
        {
            return $"{who} sent {oversized.Message} Use a provider that streams its answers in pieces.";
        }

        var status = Find<ClientResultException>(exception)?.Status ?? 0;
        return status switch
        {
            >= 300 and < 400 => $"{who} answered with a redirect ({status}); model calls do not follow redirects. " +
                "Set the provider's base URL to the address it redirects to.",
            401 or 403 => $"{who} rejected the API key ({status}). Check the key configured for the provider '{provider.Name}'.",
            404 => $"{who} does not know the model '{provider.Model}' or the path (404). Check the model name and base URL.",
            429 => $"{who} kept answering 'too many requests' (429) after retries. Try again later or raise the provider's limits.",
            >= 500 => $"{who} failed ({status}) after retries. Try again later.",
            _ when exception is AnswerInterruptedException => $"{who} cut its answer off midway or stopped sending. Try again.",
            // Before an answer, every failure reads the same (refused, reset, timed out, not HTTP at all), so
            // failures cannot be used to tell a closed port from an open or filtered one.
            // The installation's own provider (set by the operator, trusted by the egress policy) gets the
            // precise reason: it is what a new installation most often gets wrong.
            _ when IsConnectionFailure(exception) && provider.Id is null => Unreachable(provider, exception),
            _ when IsConnectionFailure(exception) =>
                $"{who} is unreachable. Check the base URL and that the provider is running, then try again.",
            _ => $"The model call to '{provider.Name}' failed unexpectedly. Try again; the Host's log has the details for an admin.",
        };
    }

    /// <summary>The failure as a short, bounded label for metrics and spans: an HTTP status, or what went wrong.</summary>
    public static string Status(Exception exception) =>
        Find<EgressRefusedException>(exception) is not null ? "refused"
        : Find<OversizedEventException>(exception) is not null ? "oversized"
        : Find<ClientResultException>(exception) is { Status: > 0 } client ? client.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)
        : exception is AnswerInterruptedException ? "interrupted"
        : IsConnectionFailure(exception) ? "unreachable"
        : "other";

    private static bool IsConnectionFailure(Exception exception) =>
        Find<IOException>(exception) is not null || Find<HttpRequestException>(exception) is not null
        || Find<TimeoutException>(exception) is not null || Find<OperationCanceledException>(exception) is not null;

    /// <summary>"could not connect to http://localhost:11434/v1/ (connection refused): is Ollama running? ..."</summary>
    private static string Unreachable(ResolvedProvider provider, Exception exception)
    {
        var reason = (Find<EgressUnreachableException>(exception)?.Cause ?? Find<SocketException>(exception)?.SocketErrorCode) switch
        {
            SocketError.ConnectionRefused => "connection refused",
            SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "the name does not resolve",
            SocketError.TimedOut => "timed out",
            SocketError.NetworkUnreachable or SocketError.HostUnreachable => "no route to it",
            SocketError.ConnectionReset => "the connection was reset",
            _ when Find<TimeoutException>(exception) is not null || Find<OperationCanceledException>(exception) is not null => "no answer in time",
            _ => "no answer",
        };
        var running = provider.BaseUrl.Port == OllamaPort ? "is Ollama running?" : "is the provider running, and is the base URL right?";
        return $"Could not connect to {provider.BaseUrl} ({reason}): {running} " +
            "Add a provider on the Providers page, or set Conclave:Models:Default.";
    }

    private const int OllamaPort = 11434;

    private static T? Find<T>(Exception exception)
        where T : Exception
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }

        return null;
    }
}
