using Conclave.Agents.Contracts;
using Conclave.Chat.Answers;
using Conclave.Chat.Connections;
using Conclave.Chat.Contracts;
using Conclave.Chat.Linking;
using Conclave.Chat.Storage;
using Conclave.Identity.Contracts;
using Conclave.Sessions.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conclave.Chat.Conversations;

/// <summary>A message for the bot, as any platform delivers it.</summary>
/// <param name="EventId">The platform's id of the delivery (Slack's event_id, a Discord message id): recorded so a retry or replay starts nothing.</param>
/// <param name="ThreadId">The thread the answer goes to (a top-level message starts one).</param>
/// <param name="Mentioned">The bot was mentioned (or it is a direct message): a new thread may start.</param>
/// <param name="MessageId">The platform's id of the message itself (Slack's ts, a Discord snowflake).</param>
internal sealed record IncomingMessage(string EventId, string ChannelId, string ThreadId, string UserId, string Text, bool Mentioned, bool Direct, string MessageId);

internal enum InboxOutcome
{
    Duplicate,
    Ignored,
    NotBound,
    LinkPrompted,
    Refused,
    RunStarted,
}

/// <summary>
/// Turns a message in a bound channel or thread into a message of the thread's Conclave session, owned by
/// the chat user's linked account, and hands its run's answer to the <see cref="AnswerRelay"/>. Unlinked
/// users get a private one-time link and nothing runs.
/// </summary>
internal sealed partial class ChatInbox(
    ChatStore store,
    ChatClients clients,
    ChatLinks links,
    AnswerRelay relay,
    ISessions sessions,
    ITeams teams,
    IServiceScopeFactory scopes,
    ILogger<ChatInbox> logger)
{
    // A chat message is bounded before it reaches a session.
    private const int MaxTextLength = 20_000;

    public async Task<InboxOutcome> HandleAsync(Guid connectionId, IncomingMessage message, CancellationToken ct)
    {
        if (!await store.RecordEventAsync(connectionId, message.EventId, ct))
        {
            Log.Duplicate(logger, connectionId, message.EventId);
            return InboxOutcome.Duplicate;
        }

        try
        {
            return await TakeAsync(connectionId, message, ct);
        }
        catch
        {
            // Not taken: the platform's retry may do it.
            await store.ForgetEventAsync(connectionId, message.EventId, CancellationToken.None);
            throw;
        }
    }

    private async Task<InboxOutcome> TakeAsync(Guid connectionId, IncomingMessage message, CancellationToken ct)
    {
        var place = new ChatPlace(connectionId, message.ChannelId, message.ThreadId);
        var thread = await store.ThreadAsync(connectionId, message.ChannelId, message.ThreadId, ct);
        ChannelBinding? binding = null;
        if (thread is null)
        {
            if (!message.Mentioned)
            {
                return InboxOutcome.Ignored;
            }

            binding = await store.BindingAsync(connectionId, message.ChannelId, ct)
                ?? (message.Direct ? new ChannelBinding(message.ChannelId, DefaultTeam.Id, "Assistant") : null);
            if (binding is null)
            {
                await PostAsync(place, "This channel is not bound to a Conclave team yet: an admin binds it on Conclave's admin page.", ct);
                return InboxOutcome.NotBound;
            }
        }

        var output = await clients.OutputAsync(connectionId, ct);
        var ownerId = await store.LinkedOwnerAsync(connectionId, message.UserId, ct);
        if (thread is not null && !message.Mentioned && ownerId != thread.OwnerId)
        {
            // Others talking in the thread without addressing the bot: not for us (and no prompt on every message).
            return InboxOutcome.Ignored;
        }

        if (ownerId is null || !await AccountActiveAsync(ownerId, ct))
        {
            var link = await links.CreateAsync(connectionId, message.UserId, ct);
            await output.PostPrivateAsync(
                place,
                message.UserId,
                $"To work with Conclave here, link your Conclave account once: <{link}|link my account> (valid for a short while, for you only). Then send your message again.",
                ct);
            Log.LinkPrompted(logger, connectionId);
            return InboxOutcome.LinkPrompted;
        }

        if (thread is null)
        {
            var team = await teams.FindAsync(ownerId, binding!.TeamId, ct);
            if (team is null)
            {
                await PostAsync(place, $"The team bound to this channel ({binding.TeamName}) is not one your Conclave account can use.", ct);
                return InboxOutcome.Refused;
            }

            place = await output.OpenThreadAsync(place, message.MessageId, Title(message.Text), ct);
            var created = await sessions.CreateAsync(ownerId, Title(message.Text) is { Length: > 0 } title ? title : null, ct);
            await sessions.ChooseTeamAsync(ownerId, created.Id, team.Id, team.Name, ct);
            thread = await store.AddThreadAsync(place, new ThreadSession(created.Id, ownerId), ct);
        }

        if (thread.OwnerId != ownerId)
        {
            await output.PostPrivateAsync(place, message.UserId, "This thread's session belongs to the person who started it: mention the bot in a new thread to start your own.", ct);
            return InboxOutcome.Refused;
        }

        PostedMessage posted;
        try
        {
            posted = await sessions.PostMessageAsync(ownerId, thread.SessionId, Clean(message.Text), ct);
        }
        catch (Exception e) when (e is QuotaExceededException or SessionValidationException)
        {
            await PostAsync(place, ":warning: " + e.Message, ct);
            return InboxOutcome.Refused;
        }
        catch (SessionNotFoundException)
        {
            await PostAsync(place, "This thread's Conclave session was deleted: mention the bot in a new thread to start again.", ct);
            return InboxOutcome.Refused;
        }

        var answer = new OwedAnswer(posted.RunId, place, thread.SessionId, ownerId, posted.Version, null, 0, false);
        await store.AddAnswerAsync(answer, ct);
        relay.Start(answer);
        Log.RunStarted(logger, connectionId, thread.SessionId, posted.RunId);
        return InboxOutcome.RunStarted;
    }

    /// <summary>The Stop button: stops the run when the one clicking is linked to its owner.</summary>
    public async Task<bool> StopAsync(Guid connectionId, string userId, Guid runId, CancellationToken ct)
    {
        var answer = await store.AnswerAsync(runId, ct);
        if (answer is null || answer.Place.ConnectionId != connectionId)
        {
            return false;
        }

        var ownerId = await store.LinkedOwnerAsync(connectionId, userId, ct);
        if (ownerId != answer.OwnerId)
        {
            var output = await clients.OutputAsync(connectionId, ct);
            await output.PostPrivateAsync(answer.Place, userId, "Only the person who started this run can stop it.", ct);
            return false;
        }

        await using var scope = scopes.CreateAsyncScope();
        try
        {
            await scope.ServiceProvider.GetRequiredService<IRunControl>().CancelAsync(ownerId, answer.SessionId, runId, ct);
        }
        catch (Exception e) when (e is RunAlreadyEndedException or SessionNotFoundException)
        {
            return false;
        }

        Log.Stopped(logger, runId, answer.SessionId);
        return true;
    }

    private async Task<bool> AccountActiveAsync(string ownerId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var account = await scope.ServiceProvider.GetRequiredService<IAccounts>().FindAsync(ownerId, ct);
        return account is not null && (account.LockedUntil is null || account.LockedUntil < DateTimeOffset.UtcNow);
    }

    private async Task PostAsync(ChatPlace place, string text, CancellationToken ct)
    {
        var output = await clients.OutputAsync(place.ConnectionId, ct);
        await output.PostAsync(place, text, null, ct);
    }

    /// <summary>The text without mentions of users (the bot's among them), bounded.</summary>
    private static string Clean(string text)
    {
        var cleaned = MentionPattern().Replace(text, "").Trim();
        return cleaned.Length <= MaxTextLength ? cleaned : cleaned[..MaxTextLength];
    }

    private static string Title(string text)
    {
        var title = Clean(text).ReplaceLineEndings(" ");
        return title.Length <= 60 ? title : title[..60] + "…";
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"<@[A-Z0-9]+>|<@!?\d+>")]
    private static partial System.Text.RegularExpressions.Regex MentionPattern();

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Information, "Event {EventId} of chat connection {ConnectionId} was taken in before; nothing new starts")]
        public static partial void Duplicate(ILogger logger, Guid connectionId, string eventId);

        [LoggerMessage(LogLevel.Information, "An unlinked user of chat connection {ConnectionId} was sent an account link")]
        public static partial void LinkPrompted(ILogger logger, Guid connectionId);

        [LoggerMessage(LogLevel.Information, "Chat connection {ConnectionId} started run {RunId} in session {SessionId}")]
        public static partial void RunStarted(ILogger logger, Guid connectionId, Guid sessionId, Guid runId);

        [LoggerMessage(LogLevel.Information, "Run {RunId} of session {SessionId} was stopped from chat")]
        public static partial void Stopped(ILogger logger, Guid runId, Guid sessionId);
    }
}
