using Conclave.Sessions.Contracts;

namespace Conclave.Sessions.Log;

/// <summary>
/// The session event types: every <see cref="ITimelineEvent"/> of the Contracts, each stored under its
/// class name (set explicitly, so the store's <c>type</c> column is the name clients see and stays
/// stable whatever Marten's naming default). A new event type needs no registration here.
/// </summary>
internal static class SessionEventTypes
{
    public static readonly IReadOnlyDictionary<string, Type> ByName = typeof(ITimelineEvent).Assembly.GetTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && t.Namespace == typeof(ITimelineEvent).Namespace && typeof(ITimelineEvent).IsAssignableFrom(t))
        .ToDictionary(t => t.Name);

    /// <summary>The stored names of the events that end a run.</summary>
    public static readonly string[] RunEnded = [.. ByName.Where(t => typeof(IRunEnded).IsAssignableFrom(t.Value)).Select(t => t.Key).Order()];

    /// <summary>The stored names of the events a run's status is read from (<see cref="RunHistory"/>).</summary>
    public static readonly string[] RunLifecycle = [.. RunHistory.LifecycleEvents.Select(t => t.Name), .. RunEnded];
}
