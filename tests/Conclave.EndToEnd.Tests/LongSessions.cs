using Conclave.Sessions.Contracts;
using Conclave.Testing.Host;

namespace Conclave.EndToEnd.Tests;

/// <summary>
/// Sessions with long histories, written through the Sessions module's log as finished runs would have
/// written them (the bench links this file too). Each exchange is eight events and four entries: the
/// user's question; the run queued and started; an answer in markdown whose length varies; a tool call
/// and its result; a closing answer; the run completed. Entry heights vary as in a real conversation.
/// </summary>
public static class LongSessions
{
    public const int EventsPerExchange = 8;

    /// <summary>A session of <paramref name="ownerId"/> (the default user) with at least <paramref name="events"/> events after its start (whole exchanges).</summary>
    public static async Task<SessionSummary> CreateAsync(ConclaveApp app, string title, int events, string ownerId = ConclaveApp.DefaultUserId)
    {
        var session = await app.Service<ISessions>().CreateAsync(ownerId, title, CancellationToken.None);
        var log = app.Service<ISessionLog>();
        var exchanges = (events + EventsPerExchange - 1) / EventsPerExchange;
        var start = DateTimeOffset.UtcNow.AddMinutes(-exchanges);
        var batch = new List<object>();
        for (var n = 1; n <= exchanges; n++)
        {
            batch.AddRange(Exchange(n, ownerId, start.AddMinutes(n)));
            if (batch.Count >= 400 || n == exchanges)
            {
                await log.AppendAsync(session.Id, batch, CancellationToken.None);
                batch.Clear();
            }
        }

        return session;
    }

    /// <summary>The text of the user's <paramref name="n"/>th question (1-based).</summary>
    public static string Question(int n) => $"Question {n}: what does step {n} of the analysis show?";

    /// <summary>The first words of the closing answer of the <paramref name="n"/>th exchange.</summary>
    public static string Closing(int n) => $"Answer {n} in short";

    private static IEnumerable<object> Exchange(int n, string ownerId, DateTimeOffset at)
    {
        var runId = Guid.NewGuid();
        var callId = $"call_{n}";
        var usage = new TokenUsage(200 + n, 40 + n % 90);
        yield return new UserMessagePosted(Guid.NewGuid(), ownerId, Question(n), at);
        yield return new RunQueued(runId, Guid.NewGuid(), at, ownerId);
        yield return new RunStarted(runId, "seeded", at, "Assistant");
        yield return new AgentMessageCompleted(runId, Guid.NewGuid(), "Assistant", Answer(n), "scripted-model", usage, at, 0.0002m);
        yield return new ToolCallRequested(runId, callId, Guid.NewGuid(), "Assistant", "run_python", $$"""{"code":"print(sum(range({{n}})))"}""", at);
        yield return new ToolCallCompleted(runId, callId, "Assistant", "run_python", $"{n * (n - 1) / 2}\n", ToolOutcome.Ok, [], TimeSpan.FromMilliseconds(80 + n % 400), at);
        yield return new AgentMessageCompleted(runId, Guid.NewGuid(), "Assistant", $"{Closing(n)}: the sum is **{n * (n - 1) / 2}**.", "scripted-model", usage, at, 0.0001m);
        yield return new RunCompleted(runId, at);
    }

    /// <summary>One to seven paragraphs, every fifth answer with a code block and every seventh with a table.</summary>
    private static string Answer(int n)
    {
        var paragraphs = Enumerable.Range(1, 1 + n % 7)
            .Select(p => $"Paragraph {p} of answer {n}: the figures of step {n} are read, compared with the step before, and summed up in a few plain words.");
        var text = string.Join("\n\n", paragraphs);
        if (n % 5 == 0)
        {
            text += $"\n\n```python\nfor i in range({n}):\n    print(i * i)\n```";
        }

        if (n % 7 == 0)
        {
            text += $"\n\n| step | value |\n|---|---|\n| {n} | {n * n} |\n| {n + 1} | {(n + 1) * (n + 1)} |";
        }

        return text;
    }
}
