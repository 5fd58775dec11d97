using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Conclave.Sessions.Contracts;
using Conclave.Sessions.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Conclave.Sessions.Live;

/// <summary>
/// Writes a session feed as server-sent events. Items that are already at hand (a catch-up of
/// thousands of events, a burst of deltas) go out in one flush; a flush happens whenever the feed
/// has to wait, so live items leave at once. Events carry <c>id:</c> (the stream version), so an
/// EventSource resumes with Last-Event-ID; partial text and deltas carry none. When the node stops
/// (ADR 0015) the stream ends with a <c>retry:</c> hint, so the client reconnects soon, to another node.
/// </summary>
internal sealed class SseFeedResult(IAsyncEnumerable<FeedItem> feed, JsonSerializerOptions json) : IResult
{
    private static readonly byte[] EventLine = "event: "u8.ToArray();
    private static readonly byte[] IdLine = "id: "u8.ToArray();
    private static readonly byte[] DataLine = "data: "u8.ToArray();
    private static readonly byte[] RetryLine = "retry: "u8.ToArray();

    public async Task ExecuteAsync(HttpContext context)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache,no-store";
        // Proxies must not buffer the stream.
        response.Headers["X-Accel-Buffering"] = "no";
        var writer = response.BodyWriter;
        await writer.FlushAsync(context.RequestAborted);

        var metrics = context.RequestServices.GetRequiredService<SessionMetrics>();
        using var subscriber = metrics.SubscriberConnected();
        var lag = metrics.FeedLag(context.RequestServices.GetRequiredService<TimeProvider>());
        var stopping = context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var ends = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        await using var items = feed.GetAsyncEnumerator(ends.Token);
        try
        {
            var next = items.MoveNextAsync();
            while (true)
            {
                if (!next.IsCompleted)
                {
                    await writer.FlushAsync(context.RequestAborted);
                    lag.Flushed();
                }

                if (!await next)
                {
                    break;
                }

                Write(writer, items.Current);
                lag.Written(items.Current);
                next = items.MoveNextAsync();
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; its run goes on.
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // This node drains: the client resumes from its Last-Event-ID on a node that stays.
            var hint = context.RequestServices.GetRequiredService<IOptions<NodeOptions>>().Value.ReconnectHint;
            writer.Write(RetryLine);
            writer.Write(Encoding.UTF8.GetBytes(((long)hint.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)));
            writer.Write("\n\n"u8);
            await writer.FlushAsync(context.RequestAborted);
        }
    }

    /// <summary>
    /// The hub hands every subscriber the same item instance, so each item is encoded once however
    /// many clients watch the session.
    /// </summary>
    private static readonly ConditionalWeakTable<FeedItem, byte[]> Encoded = new();

    private void Write(IBufferWriter<byte> writer, FeedItem item) =>
        writer.Write(Encoded.GetValue(item, Encode));

    private byte[] Encode(FeedItem item)
    {
        var writer = new ArrayBufferWriter<byte>(256);
        var (type, id, data) = item switch
        {
            FeedEvent e => ("log", e.Event.Version.ToString(CultureInfo.InvariantCulture), (object)e.Event),
            FeedPartial p => ("partial", null, p),
            FeedDelta d => ("delta", null, d),
            _ => throw new InvalidOperationException($"Unknown feed item {item.GetType().Name}."),
        };

        writer.Write(EventLine);
        writer.Write(Encoding.UTF8.GetBytes(type));
        writer.Write("\n"u8);
        if (id is not null)
        {
            writer.Write(IdLine);
            writer.Write(Encoding.UTF8.GetBytes(id));
            writer.Write("\n"u8);
        }

        // Compact JSON holds no raw line breaks, so it is always a single data line.
        writer.Write(DataLine);
        using (var payload = new Utf8JsonWriter(writer))
        {
            JsonSerializer.Serialize(payload, data, data.GetType(), json);
        }

        writer.Write("\n\n"u8);
        return writer.WrittenSpan.ToArray();
    }
}
