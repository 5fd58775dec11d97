namespace Conclave.Sessions.Contracts;

/// <summary>
/// Tells an owner's open pages, as it happens, that one of their sessions changed in a way a session
/// list shows (created, renamed, deleted, a message, a run's state), so lists stay current without
/// polling. It says which session, never what changed: the listener reads that, with the owner check.
/// In-process like the live feed.
/// </summary>
public interface ISessionChanges
{
    /// <summary>
    /// Calls <paramref name="changed"/> with the session's id until the subscription is disposed. It runs
    /// on the writer's thread: hand the work off (Blazor: <c>InvokeAsync</c>) and return.
    /// </summary>
    IDisposable Subscribe(string ownerId, Action<Guid> changed);
}
