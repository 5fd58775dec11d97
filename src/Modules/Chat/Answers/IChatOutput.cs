using Conclave.Chat.Storage;

namespace Conclave.Chat.Answers;

/// <summary>What the bridge does in a platform's thread; each platform's client implements it.</summary>
internal interface IChatOutput
{
    /// <summary>The longest text one message may carry.</summary>
    int MaxLength { get; }

    /// <summary>Markdown in the platform's own format.</summary>
    string Format(string markdown);

    /// <summary>Posts a message in the thread (with a Stop button for <paramref name="stopRunId"/>); returns its id.</summary>
    Task<string> PostAsync(ChatPlace place, string text, Guid? stopRunId, CancellationToken ct);

    Task UpdateAsync(ChatPlace place, string messageId, string text, Guid? stopRunId, CancellationToken ct);

    /// <summary>A message only <paramref name="userId"/> sees (the account link).</summary>
    Task PostPrivateAsync(ChatPlace place, string userId, string text, CancellationToken ct);

    Task UploadAsync(ChatPlace place, string fileName, byte[] content, CancellationToken ct);

    /// <summary>
    /// Where a conversation started by message <paramref name="messageId"/> in <paramref name="place"/> goes on: Slack
    /// threads under the message as it is; Discord starts a thread (a channel of its own) from it.
    /// </summary>
    Task<ChatPlace> OpenThreadAsync(ChatPlace place, string messageId, string title, CancellationToken ct);
}
