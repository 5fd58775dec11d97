using System.Collections.Concurrent;
using Conclave.Chat.Answers;
using Conclave.Chat.Contracts;
using Conclave.Chat.Discord;
using Conclave.Chat.Slack;
using Conclave.Chat.Storage;
using Microsoft.Extensions.Options;

namespace Conclave.Chat.Connections;

/// <summary>A connection's platform client, built once from its decrypted token and kept until the connection changes.</summary>
internal sealed class ChatClients(ChatStore store, ChatSecrets secrets, IHttpClientFactory httpClients, IOptions<ChatOptions> options)
{
    public const string HttpClientName = "chat";

    private readonly ConcurrentDictionary<Guid, Task<Client>> _clients = new();

    public async Task<IChatOutput> OutputAsync(Guid connectionId, CancellationToken ct) => (await ClientAsync(connectionId, ct)).Output;

    public async Task<SlackWebApi> SlackAsync(Guid connectionId, CancellationToken ct) =>
        (await ClientAsync(connectionId, ct)).Slack ?? throw new InvalidOperationException($"Connection {connectionId} is not a Slack connection.");

    public async Task<DiscordRest> DiscordAsync(Guid connectionId, CancellationToken ct) =>
        (await ClientAsync(connectionId, ct)).Discord ?? throw new InvalidOperationException($"Connection {connectionId} is not a Discord connection.");

    /// <summary>The bot's own user id on the platform, asked once.</summary>
    public async Task<string> BotUserIdAsync(Guid connectionId, CancellationToken ct)
    {
        var client = await ClientAsync(connectionId, ct);
        return client.BotUserId ??= client.Slack is { } slack ? await slack.BotUserIdAsync(ct) : await client.Discord!.BotUserIdAsync(ct);
    }

    public void Forget(Guid connectionId) => _clients.TryRemove(connectionId, out _);

    private async Task<Client> ClientAsync(Guid connectionId, CancellationToken ct)
    {
        var pending = _clients.GetOrAdd(connectionId, id => BuildAsync(id));
        try
        {
            return await pending.WaitAsync(ct);
        }
        catch (Exception) when (pending.IsFaulted)
        {
            _clients.TryRemove(KeyValuePair.Create(connectionId, pending));
            throw;
        }
    }

    private async Task<Client> BuildAsync(Guid connectionId)
    {
        var connection = await store.ConnectionAsync(connectionId, CancellationToken.None)
            ?? throw new Contracts.ChatConnectionNotFoundException(connectionId);
        var http = httpClients.CreateClient(HttpClientName);
        var token = secrets.Unprotect(connection.BotToken);
        if (connection.Platform == ChatPlatform.Discord)
        {
            var discord = new DiscordRest(http, options.Value.DiscordApiUrl, token);
            return new Client(null, discord, new DiscordThreadOutput(discord, options.Value.MaxMessageLength));
        }

        var slack = new SlackWebApi(http, options.Value.SlackApiUrl, token);
        return new Client(slack, null, new SlackThreadOutput(slack, options.Value.MaxMessageLength));
    }

    private sealed class Client(SlackWebApi? slack, DiscordRest? discord, IChatOutput output)
    {
        public SlackWebApi? Slack { get; } = slack;

        public DiscordRest? Discord { get; } = discord;

        public IChatOutput Output { get; } = output;

        public string? BotUserId { get; set; }
    }
}
