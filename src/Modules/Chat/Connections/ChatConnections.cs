using System.Collections.Concurrent;
using Conclave.Chat.Answers;
using Conclave.Chat.Contracts;
using Conclave.Chat.Conversations;
using Conclave.Chat.Discord;
using Conclave.Chat.Slack;
using Conclave.Chat.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Chat.Connections;

/// <summary>
/// The connections an admin configures, and their lifetimes on this node: at start-up every enabled
/// connection is started and its owed answers are resumed; the admin page starts and stops them.
/// </summary>
internal sealed partial class ChatConnections(
    ChatStore store,
    ChatSecrets secrets,
    ChatClients clients,
    ConnectionStates states,
    AnswerRelay relay,
    ChatInbox inbox,
    IOptions<ChatOptions> options,
    TimeProvider time,
    ILoggerFactory loggers) : IChatConnections, IHostedService
{
    private const int MaxNameLength = 100;
    private const int MaxSecretLength = 500;
    private readonly ConcurrentDictionary<Guid, Running> _running = new();
    private readonly ILogger _logger = loggers.CreateLogger<ChatConnections>();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.PruneEventsAsync(TimeSpan.FromDays(7), cancellationToken);
        foreach (var connection in await store.ConnectionsAsync(cancellationToken))
        {
            if (connection.Enabled)
            {
                Run(connection);
            }

            await relay.ResumeAsync(connection.Id, cancellationToken);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var id in _running.Keys)
        {
            await HaltAsync(id);
        }
    }

    public async Task<IReadOnlyList<ChatConnectionView>> ListAsync(CancellationToken cancellationToken)
    {
        var bindings = (await store.BindingsAsync(cancellationToken)).ToLookup(b => b.ConnectionId, b => b.Binding);
        return (await store.ConnectionsAsync(cancellationToken)).Select(c => View(c, bindings[c.Id].ToList())).ToList();
    }

    public async Task<ChatConnectionView> AddSlackAsync(SlackConnectionSettings settings, CancellationToken cancellationToken)
    {
        var name = settings.Name.Trim();
        if (name.Length is 0 or > MaxNameLength)
        {
            throw new ChatValidationException(nameof(settings.Name), $"Give the connection a name of 1 to {MaxNameLength} characters.");
        }

        Check(nameof(settings.BotToken), settings.BotToken, "xoxb-", required: true);
        Check(nameof(settings.AppToken), settings.AppToken, "xapp-", required: settings.Mode == SlackMode.SocketMode);
        Check(nameof(settings.SigningSecret), settings.SigningSecret, "", required: settings.Mode == SlackMode.EventsApi);
        var connection = new StoredConnection(
            Guid.CreateVersion7(),
            ChatPlatform.Slack,
            name,
            settings.Mode,
            secrets.Protect(settings.BotToken.Trim()),
            Protect(settings.AppToken),
            Protect(settings.SigningSecret),
            ChatSecrets.Hint(settings.BotToken.Trim()),
            Hint(settings.AppToken),
            Hint(settings.SigningSecret),
            Enabled: false);
        await store.InsertConnectionAsync(connection, cancellationToken);
        Log.Added(_logger, connection.Id, name);
        return View(connection, []);
    }

    public async Task<ChatConnectionView> AddDiscordAsync(DiscordConnectionSettings settings, CancellationToken cancellationToken)
    {
        var name = settings.Name.Trim();
        if (name.Length is 0 or > MaxNameLength)
        {
            throw new ChatValidationException(nameof(settings.Name), $"Give the connection a name of 1 to {MaxNameLength} characters.");
        }

        Check(nameof(settings.BotToken), settings.BotToken, "", required: true);
        var token = settings.BotToken.Trim();
        var connection = new StoredConnection(
            Guid.CreateVersion7(), ChatPlatform.Discord, name, SlackMode.SocketMode, secrets.Protect(token), null, null, ChatSecrets.Hint(token), null, null, Enabled: false);
        await store.InsertConnectionAsync(connection, cancellationToken);
        Log.Added(_logger, connection.Id, name);
        return View(connection, []);
    }

    public async Task SetEnabledAsync(Guid connectionId, bool enabled, CancellationToken cancellationToken)
    {
        if (!await store.SetEnabledAsync(connectionId, enabled, cancellationToken))
        {
            throw new ChatConnectionNotFoundException(connectionId);
        }

        await HaltAsync(connectionId);
        if (enabled && await store.ConnectionAsync(connectionId, cancellationToken) is { } connection)
        {
            Run(connection);
            await relay.ResumeAsync(connectionId, cancellationToken);
        }
    }

    public async Task DeleteAsync(Guid connectionId, CancellationToken cancellationToken)
    {
        await HaltAsync(connectionId);
        if (!await store.DeleteConnectionAsync(connectionId, cancellationToken))
        {
            throw new ChatConnectionNotFoundException(connectionId);
        }

        clients.Forget(connectionId);
        states.Remove(connectionId);
    }

    public async Task BindAsync(Guid connectionId, ChannelBinding binding, CancellationToken cancellationToken)
    {
        if (await store.ConnectionAsync(connectionId, cancellationToken) is null)
        {
            throw new ChatConnectionNotFoundException(connectionId);
        }

        var channel = binding.ChannelId.Trim();
        if (channel.Length is 0 or > 64 || !channel.All(char.IsAsciiLetterOrDigit))
        {
            throw new ChatValidationException(nameof(binding.ChannelId), "A channel id is letters and digits, as Slack shows it (e.g. C0123ABCD) under the channel's details.");
        }

        await store.BindAsync(connectionId, binding with { ChannelId = channel }, cancellationToken);
    }

    public Task UnbindAsync(Guid connectionId, string channelId, CancellationToken cancellationToken) =>
        store.UnbindAsync(connectionId, channelId, cancellationToken);

    /// <summary>The connection's decrypted signing secret (Events API mode), or null when it has none.</summary>
    public async Task<string?> SigningSecretAsync(Guid connectionId, CancellationToken ct) =>
        await store.ConnectionAsync(connectionId, ct) is { Enabled: true, Mode: SlackMode.EventsApi, SigningSecret: { } secret }
            ? secrets.Unprotect(secret)
            : null;

    private void Run(StoredConnection connection)
    {
        if (connection.Platform == ChatPlatform.Discord)
        {
            var gatewayStopping = new CancellationTokenSource();
            var gateway = new DiscordGateway(
                connection.Id, clients, inbox, states, options.Value.ReconnectDelay, time, loggers.CreateLogger<DiscordGateway>());
            _running[connection.Id] = new Running(gatewayStopping, Task.Run(() => gateway.RunAsync(gatewayStopping.Token), CancellationToken.None));
            return;
        }

        if (connection.Mode != SlackMode.SocketMode || connection.AppToken is null)
        {
            // Events API: Slack calls the Host; the connection is ready as soon as it is enabled.
            states.Set(connection.Id, ChatConnectionState.Connected, null);
            return;
        }

        var stopping = new CancellationTokenSource();
        var socket = new SlackSocketMode(
            connection.Id,
            secrets.Unprotect(connection.AppToken),
            clients,
            inbox,
            states,
            options.Value.ReconnectDelay,
            time,
            loggers.CreateLogger<SlackSocketMode>());
        var task = Task.Run(() => socket.RunAsync(stopping.Token), CancellationToken.None);
        _running[connection.Id] = new Running(stopping, task);
    }

    private async Task HaltAsync(Guid connectionId)
    {
        states.Set(connectionId, ChatConnectionState.Stopped, null);
        if (_running.TryRemove(connectionId, out var running))
        {
            await running.Stopping.CancelAsync();
            await running.Task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            running.Stopping.Dispose();
            states.Set(connectionId, ChatConnectionState.Stopped, null);
        }
    }

    private ChatConnectionView View(StoredConnection c, IReadOnlyList<ChannelBinding> bindings)
    {
        var (state, error) = states.Get(c.Id);
        return new ChatConnectionView(
            c.Id, c.Platform, c.Name, c.Mode, c.BotTokenHint, c.AppTokenHint, c.SigningSecretHint, c.Enabled, state, error, bindings);
    }

    private static void Check(string field, string? secret, string prefix, bool required)
    {
        if (string.IsNullOrWhiteSpace(secret))
        {
            if (required)
            {
                throw new ChatValidationException(field, $"{field} is required for this kind of connection.");
            }

            return;
        }

        if (secret.Trim().Length > MaxSecretLength || !secret.Trim().StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new ChatValidationException(field, prefix.Length > 0
                ? $"{field} starts with {prefix}: copy it from your Slack app's settings."
                : $"{field} is at most {MaxSecretLength} characters: copy it from your Slack app's settings.");
        }
    }

    private string? Protect(string? secret) => string.IsNullOrWhiteSpace(secret) ? null : secrets.Protect(secret.Trim());

    private static string? Hint(string? secret) => string.IsNullOrWhiteSpace(secret) ? null : ChatSecrets.Hint(secret.Trim());

    private sealed record Running(CancellationTokenSource Stopping, Task Task);

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Information, "Chat connection {ConnectionId} ({Name}) was added")]
        public static partial void Added(ILogger logger, Guid connectionId, string name);
    }
}
