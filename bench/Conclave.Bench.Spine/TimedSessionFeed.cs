using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using Conclave.Sessions.Contracts;
using Microsoft.AspNetCore.Http;

namespace Conclave.Bench.Spine;

/// <summary>
/// The Host's feed, timed: an event is "notified" when the feed hands it over (it came through the
/// live hub), and "written" when the SSE writer asks for the next item, which it does right after
/// writing this one and before flushing.
/// </summary>
internal sealed class TimedSessionFeed(ISessionFeed feed, DeliveryProbe probe, IHttpContextAccessor http) : ISessionFeed
{
    public async IAsyncEnumerable<FeedItem> SubscribeAsync(
        Guid sessionId, long afterVersion, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var header = http.HttpContext?.Request.Headers[DeliveryProbe.SubscriberHeader].ToString();
        var subscriber = int.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1;
        await foreach (var item in feed.SubscribeAsync(sessionId, afterVersion, cancellationToken))
        {
            var notifiedAt = Stopwatch.GetTimestamp();
            yield return item;
            if (subscriber >= 0 && item is FeedEvent e)
            {
                probe.Served(sessionId, subscriber, e.Event.Version, notifiedAt, Stopwatch.GetTimestamp());
            }
        }
    }
}
