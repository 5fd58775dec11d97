using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;

namespace Conclave.Testing.Host;

/// <summary>Reads a session's SSE stream the way a browser's EventSource would.</summary>
public static class SseClient
{
    public static async IAsyncEnumerable<SseItem<string>> ReadAsync(
        HttpClient client, Guid sessionId, long? lastEventId, [EnumeratorCancellation] CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/sessions/{sessionId}/stream");
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is { } id)
        {
            request.Headers.Add("Last-Event-ID", id.ToString());
        }

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        response.EnsureSuccessStatusCode();
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(ct))
        {
            yield return item;
        }
    }
}
