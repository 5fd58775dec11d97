namespace Conclave.Chat.Contracts;

public enum ChatPlatform
{
    Slack,
    Discord,
}

/// <summary>How a Slack connection receives events.</summary>
public enum SlackMode
{
    /// <summary>A WebSocket the Host opens with the app-level token: no public URL needed.</summary>
    SocketMode,

    /// <summary>Slack posts events to the Host's HTTP endpoint, signed with the signing secret.</summary>
    EventsApi,
}

public enum ChatConnectionState
{
    Stopped,
    Connecting,
    Connected,
    Failed,
}

/// <summary>A connection as the admin page shows it: secrets only as hints (the last four characters).</summary>
public sealed record ChatConnectionView(
    Guid Id,
    ChatPlatform Platform,
    string Name,
    SlackMode Mode,
    string BotTokenHint,
    string? AppTokenHint,
    string? SigningSecretHint,
    bool Enabled,
    ChatConnectionState State,
    string? LastError,
    IReadOnlyList<ChannelBinding> Bindings);

/// <summary>A channel whose mentions and threads go to a team.</summary>
public sealed record ChannelBinding(string ChannelId, Guid TeamId, string TeamName);

/// <summary>What an admin enters for a Slack connection; the secrets go to the secret store.</summary>
public sealed record SlackConnectionSettings(string Name, SlackMode Mode, string BotToken, string? AppToken, string? SigningSecret);

/// <summary>What an admin enters for a Discord connection: the bot token goes to the secret store.</summary>
public sealed record DiscordConnectionSettings(string Name, string BotToken);

/// <summary>The chat connections, for the admin page (callers check the admin role).</summary>
public interface IChatConnections
{
    Task<IReadOnlyList<ChatConnectionView>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Stores a Slack connection (disabled until started). Throws <see cref="ChatValidationException"/> for bad settings.</summary>
    Task<ChatConnectionView> AddSlackAsync(SlackConnectionSettings settings, CancellationToken cancellationToken);

    /// <summary>Stores a Discord connection (Gateway; disabled until started).</summary>
    Task<ChatConnectionView> AddDiscordAsync(DiscordConnectionSettings settings, CancellationToken cancellationToken);

    /// <summary>Starts (and keeps started across restarts) or stops a connection.</summary>
    Task SetEnabledAsync(Guid connectionId, bool enabled, CancellationToken cancellationToken);

    Task DeleteAsync(Guid connectionId, CancellationToken cancellationToken);

    /// <summary>Binds a channel to a team (replacing its binding). The team's owner must be the linked users' or built in.</summary>
    Task BindAsync(Guid connectionId, ChannelBinding binding, CancellationToken cancellationToken);

    Task UnbindAsync(Guid connectionId, string channelId, CancellationToken cancellationToken);
}

/// <summary>One-time account links, completed on the Host's /chat/link/{token} page by a signed-in user.</summary>
public interface IChatLinks
{
    /// <summary>What the token would link, or null when it is unknown, used or expired.</summary>
    Task<PendingLink?> FindAsync(string token, CancellationToken cancellationToken);

    /// <summary>Links the chat user of the token to <paramref name="ownerId"/>; false when the token is unknown, used or expired.</summary>
    Task<bool> CompleteAsync(string token, string ownerId, CancellationToken cancellationToken);
}

public sealed record PendingLink(ChatPlatform Platform, string ConnectionName, string ChatUserId, DateTimeOffset ExpiresAt);

/// <summary>Input an admin can fix; the message says how.</summary>
public sealed class ChatValidationException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}

public sealed class ChatConnectionNotFoundException(Guid connectionId) : Exception($"There is no chat connection {connectionId}.")
{
    public Guid ConnectionId { get; } = connectionId;
}
