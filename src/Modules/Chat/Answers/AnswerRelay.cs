using System.Collections.Concurrent;
using Conclave.Chat.Connections;
using Conclave.Chat.Slack;
using Conclave.Chat.Storage;
using Conclave.Sandbox.Contracts;
using Conclave.Sessions.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Chat.Answers;

/// <summary>
/// Carries each run's answer into its thread: a placeholder with a Stop button at once, edits as the
/// feed streams (no more often than <see cref="ChatOptions.EditInterval"/>, later when the platform
/// answers 429), then the final text split into messages, the usage line and the run's images. Progress is
/// stored after every step, so after a restart an unfinished answer resumes where it was and nothing is posted twice.
/// </summary>
internal sealed partial class AnswerRelay(
    ChatStore store,
    ChatClients clients,
    ISessionFeed feed,
    IWorkspace workspace,
    IOptions<ChatOptions> options,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<AnswerRelay> logger) : IDisposable
{
    private const int MaxAttempts = 5;
    private const long MaxImageBytes = 20 * 1024 * 1024;
    private readonly ConcurrentDictionary<Guid, Task> _running = new();
    private readonly CancellationTokenSource _stopping = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping);

    /// <summary>Relays the answer unless it is relayed already on this node.</summary>
    public void Start(OwedAnswer answer)
    {
        if (answer.Done)
        {
            return;
        }

        var started = new TaskCompletionSource();
        if (_running.TryAdd(answer.RunId, started.Task))
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    await RelayAsync(answer, _stopping.Token);
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                }
                catch (Exception e)
                {
                    // The answer stays owed: the next start of the connection resumes it.
                    Log.RelayFailed(logger, e, answer.RunId, answer.SessionId);
                }
                finally
                {
                    _running.TryRemove(answer.RunId, out _);
                    started.TrySetResult();
                }
            });
        }
    }

    /// <summary>Resumes every answer of the connection still owed (runs that went on or finished while the Host was down).</summary>
    public async Task ResumeAsync(Guid connectionId, CancellationToken ct)
    {
        foreach (var answer in await store.OpenAnswersAsync(connectionId, ct))
        {
            Start(answer);
        }
    }

    private async Task RelayAsync(OwedAnswer answer, CancellationToken ct)
    {
        var output = await clients.OutputAsync(answer.Place.ConnectionId, ct);
        var place = answer.Place;
        var messageId = answer.MessageId;
        var pacer = new Pacer(time, options.Value.EditInterval);
        if (messageId is null)
        {
            messageId = await SendAsync(pacer, () => output.PostAsync(place, AnswerDraft.Placeholder, answer.RunId, ct), ct);
            await store.SetAnswerMessageAsync(answer.RunId, messageId, CancellationToken.None);
            pacer.Sent();
        }

        var draft = new AnswerDraft(answer.RunId);
        using var changed = new SemaphoreSlim(0, 1);
        using var feeding = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reading = Task.Run(
            async () =>
            {
                try
                {
                    await foreach (var item in feed.SubscribeAsync(answer.SessionId, Math.Max(0, answer.QueuedVersion - 1), feeding.Token))
                    {
                        bool ended;
                        lock (draft)
                        {
                            if (!draft.Apply(item))
                            {
                                continue;
                            }

                            ended = draft.End is not null;
                        }

                        Signal(changed);
                        if (ended)
                        {
                            return;
                        }
                    }
                }
                finally
                {
                    Signal(changed);
                }
            },
            CancellationToken.None);

        var shown = AnswerDraft.Placeholder;
        while (true)
        {
            await changed.WaitAsync(ct);
            if (reading.IsCompleted)
            {
                break;
            }

            await pacer.WaitAsync(ct);
            string text;
            lock (draft)
            {
                if (draft.End is not null)
                {
                    break;
                }

                text = draft.RenderStreaming(output.Format, output.MaxLength);
            }

            if (text == shown)
            {
                continue;
            }

            try
            {
                await output.UpdateAsync(place, messageId, text, answer.RunId, ct);
                shown = text;
                pacer.Sent();
            }
            catch (ChatRateLimitedException e)
            {
                pacer.Delay(e.RetryAfter);
                Log.RateLimited(logger, answer.RunId, e.RetryAfter.TotalMilliseconds);
                Signal(changed);
            }
        }

        await feeding.CancelAsync();
        await reading.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (draft.End is null)
        {
            ct.ThrowIfCancellationRequested();
            throw new InvalidOperationException($"The feed of session {answer.SessionId} ended before run {answer.RunId} did.");
        }

        await FinishAsync(answer, output, messageId, draft, pacer, ct);
    }

    private async Task FinishAsync(OwedAnswer answer, IChatOutput output, string messageId, AnswerDraft draft, Pacer pacer, CancellationToken ct)
    {
        var place = answer.Place;
        var parts = Mrkdwn.Split(draft.RenderFinal(output.Format), output.MaxLength);
        var images = draft.Images.Distinct().ToList();
        var steps = parts.Count + images.Count;
        for (var step = answer.PartsPosted; step < steps; step++)
        {
            await pacer.WaitAsync(ct);
            if (step == 0)
            {
                await SendAsync(pacer, async () => { await output.UpdateAsync(place, messageId, parts[0], null, ct); return ""; }, ct);
            }
            else if (step < parts.Count)
            {
                var text = parts[step];
                await SendAsync(pacer, () => output.PostAsync(place, text, null, ct), ct);
            }
            else
            {
                var path = images[step - parts.Count];
                if (await ReadImageAsync(answer.SessionId, path, ct) is { } content)
                {
                    await SendAsync(pacer, async () => { await output.UploadAsync(place, Path.GetFileName(path), content, ct); return ""; }, ct);
                }
            }

            pacer.Sent();
            await store.SetPartsPostedAsync(answer.RunId, step + 1, CancellationToken.None);
        }

        await store.CompleteAnswerAsync(answer.RunId, CancellationToken.None);
        Log.AnswerPosted(logger, answer.RunId, answer.SessionId, parts.Count, images.Count);
    }

    private async Task<byte[]?> ReadImageAsync(Guid sessionId, string path, CancellationToken ct)
    {
        try
        {
            await using var stream = await workspace.OpenReadAsync(sessionId, path, ct);
            using var copy = new MemoryStream();
            var buffer = new byte[81920];
            int read;
            while ((read = await stream.ReadAsync(buffer, ct)) > 0)
            {
                if (copy.Length + read > MaxImageBytes)
                {
                    return null;
                }

                copy.Write(buffer, 0, read);
            }

            return copy.ToArray();
        }
        catch (Exception e) when (e is WorkspaceFileNotFoundException or WorkspacePathException)
        {
            Log.ImageMissing(logger, path, sessionId);
            return null;
        }
    }

    /// <summary>Sends, waiting out 429s (Retry-After) and retrying a few transient failures.</summary>
    private async Task<string> SendAsync(Pacer pacer, Func<Task<string>> send, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await send();
            }
            catch (ChatRateLimitedException e)
            {
                pacer.Delay(e.RetryAfter);
                await pacer.WaitAsync(ct);
            }
            catch (Exception e) when (e is HttpRequestException or SlackApiException && attempt < MaxAttempts)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), time, ct);
            }
        }
    }

    private static void Signal(SemaphoreSlim signal)
    {
        try
        {
            if (signal.CurrentCount == 0)
            {
                signal.Release();
            }
        }
        catch (Exception e) when (e is SemaphoreFullException or ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }

    /// <summary>When the next message may go to the platform: one edit per interval, later after a 429.</summary>
    private sealed class Pacer(TimeProvider time, TimeSpan interval)
    {
        private DateTimeOffset _next = DateTimeOffset.MinValue;

        public void Sent()
        {
            var next = time.GetUtcNow() + interval;
            if (next > _next)
            {
                _next = next;
            }
        }

        public void Delay(TimeSpan retryAfter) => _next = time.GetUtcNow() + retryAfter;

        public Task WaitAsync(CancellationToken ct)
        {
            var wait = _next - time.GetUtcNow();
            return wait > TimeSpan.Zero ? Task.Delay(wait, time, ct) : Task.CompletedTask;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Error, "Relaying the answer of run {RunId} (session {SessionId}) failed; it is resumed at the next start")]
        public static partial void RelayFailed(ILogger logger, Exception exception, Guid runId, Guid sessionId);

        [LoggerMessage(LogLevel.Information, "The platform limited edits of run {RunId}'s answer; the next waits {RetryAfterMs} ms")]
        public static partial void RateLimited(ILogger logger, Guid runId, double retryAfterMs);

        [LoggerMessage(LogLevel.Information, "Posted the answer of run {RunId} (session {SessionId}): {Parts} message(s), {Images} image(s)")]
        public static partial void AnswerPosted(ILogger logger, Guid runId, Guid sessionId, int parts, int images);

        [LoggerMessage(LogLevel.Warning, "Image {Path} of session {SessionId} is gone; it is not uploaded")]
        public static partial void ImageMissing(ILogger logger, string path, Guid sessionId);
    }
}
