using System.Net.ServerSentEvents;
using System.Text.Json;

namespace Conclave.Host.Tests.MultiNode;

/// <summary>One SSE client of a session, reading in the background what it is sent, as a browser's EventSource would.</summary>
internal sealed class LiveWatch : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(long Version, string Type)> _events = [];
    private readonly Task _reading;
    private TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private LiveWatch(HttpClient client, Guid sessionId) => _reading = ReadAsync(client, sessionId);

    public static LiveWatch Start(HttpClient client, Guid sessionId) => new(client, sessionId);

    /// <summary>The reconnection time the server last set with <c>retry:</c> (null: never set).</summary>
    public TimeSpan? Retry { get; private set; }

    /// <summary>Completes when the server ends the stream.</summary>
    public Task Ended => _reading;

    public IReadOnlyList<(long Version, string Type)> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>Waits until the events received so far satisfy <paramref name="condition"/>.</summary>
    public async Task UntilAsync(Func<IReadOnlyList<(long Version, string Type)>, bool> condition, TimeSpan timeout, string because)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            var arrived = Volatile.Read(ref _arrived);
            if (condition(Events))
            {
                return;
            }

            if (_reading.IsCompleted)
            {
                await _reading;
                throw new InvalidOperationException($"The stream ended before {because}; it had {string.Join(", ", Events)}");
            }

            try
            {
                await Task.WhenAny(arrived.Task, _reading).WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Not within {timeout.TotalSeconds:0} s: {because}; the stream had {string.Join(", ", Events)}");
            }
        }
    }

    public Task UntilTypeAsync(string type, TimeSpan timeout) =>
        UntilAsync(events => events.Any(e => e.Type == type), timeout, $"a {type} arrives");

    private async Task ReadAsync(HttpClient client, Guid sessionId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/sessions/{sessionId}/stream");
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, _stop.Token);
        response.EnsureSuccessStatusCode();
        await using var stream = await response.Content.ReadAsStreamAsync(_stop.Token);
        var parser = SseParser.Create(stream);
        try
        {
            await foreach (var item in parser.EnumerateAsync(_stop.Token))
            {
                if (item.EventType == "log")
                {
                    var type = JsonDocument.Parse(item.Data).RootElement.GetProperty("type").GetString()!;
                    lock (_events)
                    {
                        _events.Add((long.Parse(item.EventId!, System.Globalization.CultureInfo.InvariantCulture), type));
                    }
                }

                if (parser.ReconnectionInterval != Timeout.InfiniteTimeSpan)
                {
                    Retry = parser.ReconnectionInterval;
                }

                Interlocked.Exchange(ref _arrived, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            }

            // A retry: alone yields no item: read what the parser saw when the stream ended.
            if (parser.ReconnectionInterval != Timeout.InfiniteTimeSpan)
            {
                Retry = parser.ReconnectionInterval;
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (HttpIOException) when (_stop.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _reading;
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
            // Stopped by the test.
        }

        _stop.Dispose();
    }
}
