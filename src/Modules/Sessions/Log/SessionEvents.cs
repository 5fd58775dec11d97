using Conclave.Sessions.Contracts;
using JasperFx.Events;

namespace Conclave.Sessions.Log;

internal static class SessionEventMapping
{
    public static SessionEvent ToSessionEvent(this IEvent e) =>
        new(e.Version, e.EventType.Name, e.Data is ITimelineEvent t ? t.At : e.Timestamp, e.Data);

    public static IReadOnlyList<SessionEvent> ToSessionEvents(this IEnumerable<IEvent> events) =>
        events.Select(ToSessionEvent).ToList();
}
