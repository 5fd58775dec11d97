using System.Collections.Concurrent;
using Conclave.Chat.Contracts;

namespace Conclave.Chat.Connections;

/// <summary>The live state of each connection on this node, for the admin page.</summary>
internal sealed class ConnectionStates
{
    private readonly ConcurrentDictionary<Guid, (ChatConnectionState State, string? Error)> _states = new();

    public void Set(Guid connectionId, ChatConnectionState state, string? error) => _states[connectionId] = (state, error);

    public (ChatConnectionState State, string? Error) Get(Guid connectionId) =>
        _states.TryGetValue(connectionId, out var state) ? state : (ChatConnectionState.Stopped, null);

    public void Remove(Guid connectionId) => _states.TryRemove(connectionId, out _);
}
