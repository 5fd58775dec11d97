using System.Security.Cryptography;
using System.Text;
using Conclave.Chat.Contracts;
using Conclave.Chat.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Chat.Linking;

/// <summary>
/// One-time links between a chat user and a Conclave account. Only the token's hash is stored; the token
/// itself is in the link the bot sent privately to that chat user, and is used up by the first sign-in that confirms it.
/// </summary>
internal sealed partial class ChatLinks(ChatStore store, IOptions<ChatOptions> options, TimeProvider time, ILogger<ChatLinks> logger) : IChatLinks
{
    public const string PagePath = "chat/link/";

    /// <summary>A new link for the chat user: the absolute URL of the Host page that completes it.</summary>
    public async Task<Uri> CreateAsync(Guid connectionId, string chatUserId, CancellationToken ct)
    {
        var token = Base64Url(RandomNumberGenerator.GetBytes(32));
        await store.AddLinkTokenAsync(Hash(token), connectionId, chatUserId, time.GetUtcNow() + options.Value.LinkLifetime, ct);
        return new Uri(options.Value.PublicUrl, PagePath + token);
    }

    public async Task<PendingLink?> FindAsync(string token, CancellationToken cancellationToken)
    {
        if (!LooksLikeToken(token) || await store.PendingLinkAsync(Hash(token), cancellationToken) is not { } pending)
        {
            return null;
        }

        var connection = await store.ConnectionAsync(pending.ConnectionId, cancellationToken);
        return connection is null ? null : new PendingLink(connection.Platform, connection.Name, pending.ChatUserId, pending.ExpiresAt);
    }

    public async Task<bool> CompleteAsync(string token, string ownerId, CancellationToken cancellationToken)
    {
        if (!LooksLikeToken(token) || !await store.CompleteLinkAsync(Hash(token), ownerId, cancellationToken))
        {
            return false;
        }

        Log.Linked(logger, ownerId);
        return true;
    }

    private static bool LooksLikeToken(string token) => token.Length is > 20 and < 100;

    private static string Hash(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Information, "A chat user was linked to account {OwnerId}")]
        public static partial void Linked(ILogger logger, string ownerId);
    }
}
