using System.Text.Json;
using Conclave.Sessions.Contracts;
using Conclave.Sessions.Log;

namespace Conclave.Sessions.Tests.Log;

/// <summary>
/// StoredEvents.json holds one event of each type as the store holds it: the types from before issue 10
/// gave runs their vocabulary exactly as they were then (captured from the database), and each type added
/// since in its first shape. Stored names and shapes are identities: these events must keep loading into
/// the same contract types with the same values.
/// </summary>
public sealed class StoredEventsTests
{
    private static readonly Guid RunId = new("0199aaaa-0000-7000-8000-000000000001");

    internal static IReadOnlyList<(string Type, string DotnetType, string Json)> Rows()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Log", "StoredEvents.json")));
        return document.RootElement.EnumerateArray()
            .Select(row => (row.GetProperty("type").GetString()!, row.GetProperty("dotnet").GetString()!, row.GetProperty("data").GetRawText()))
            .ToList();
    }

    [Fact]
    public void Every_event_type_keeps_its_stored_name()
    {
        string[] before =
        [
            "SessionStarted", "SessionRenamed", "SessionDeleted", "UserMessagePosted", "RunQueued", "RunStarted", "AgentMessageCompleted",
            "RunCompleted", "RunFailed", "RunCancelled", "SessionTeamChanged", "UserMessageEdited", "SpeakerSelected", "ToolCallRequested",
            "ToolCallCompleted", "RunPauseRequested", "RunPaused", "RunResumed", "RunRequeued",
        ];
        string[] knowledge = ["MessageCited", "KnowledgeDocumentChanged"];
        string[] approvals = ["ToolApprovalRequested", "ToolApprovalGranted", "ToolApprovalDenied"];

        Assert.Equal(before.Concat(knowledge).Concat(approvals).Order(), SessionEventTypes.ByName.Keys.Order());
        Assert.All(SessionEventTypes.ByName, t => Assert.Equal(typeof(SessionStarted).Namespace, t.Value.Namespace));
        Assert.Equal(["RunCancelled", "RunCompleted", "RunFailed"], SessionEventTypes.RunEnded);
    }

    [Fact]
    public void Events_stored_before_the_run_vocabulary_load_into_the_same_types()
    {
        var rows = Rows();
        Assert.Equal(SessionEventTypes.ByName.Count, rows.Count);

        var events = rows.Select((row, i) => SessionLog.Deserialize(Guid.Empty, i + 1, row.Type, row.Json)).ToList();

        Assert.All(rows.Zip(events), pair =>
        {
            Assert.Equal(pair.First.Type, pair.Second.Data.GetType().Name);
            Assert.Equal($"{pair.Second.Data.GetType().FullName}, Conclave.Sessions", pair.First.DotnetType);
        });
        var queued = Single<RunQueued>(events);
        Assert.Equal(new RunOverrides(5, 1000, 0.5m, TimeSpan.FromMinutes(3)), queued.Limits);
        Assert.Contains("\"Color\":\"#0891b2\"", Single<RunStarted>(events).TeamSnapshot);
        Assert.Equal(new TokenUsage(100, 20, Estimated: true), Single<AgentMessageCompleted>(events).Usage);
        Assert.Equal(0.0012m, Single<AgentMessageCompleted>(events).Cost);
        Assert.Null(Single<SpeakerSelected>(events).Cost);
        var done = Single<ToolCallCompleted>(events);
        Assert.Equal((ToolOutcome.Error, TimeSpan.FromMilliseconds(1234.5)), (done.Outcome, done.Duration));
        Assert.Equal(["outputs/fig.png"], done.Images);
        Assert.Equal(4, Single<UserMessageEdited>(events).SupersededFromVersion);
        Assert.Null(done.Passages); // stored before search_knowledge existed
        var cited = Single<MessageCited>(events);
        Assert.Equal([1, 3], cited.Citations.Select(c => c.Number));
        Assert.Equal(new Citation(1, new Guid("0199aaaa-0000-7000-8000-0000000000d1"), "terms.pdf", 2, null, "The warranty lasts 24 months from delivery."), cited.Citations[0]);
        Assert.Equal("Returns › Refunds", cited.Citations[1].Heading);
        var document = Single<KnowledgeDocumentChanged>(events);
        Assert.Equal((KnowledgeDocumentState.Embedding, 4, 8, null), (document.State, document.ChunksEmbedded, document.ChunksTotal, document.Failure));
        var asked = Single<ToolApprovalRequested>(events);
        Assert.Equal(("call_7", "write_file", "{\"path\": \"a.txt\"}"), (asked.CallId, asked.Tool, asked.Arguments));
        Assert.Equal(TimeSpan.FromHours(1), asked.ExpiresAt - asked.At);
        Assert.True(Single<ToolApprovalGranted>(events).AlwaysInSession);
        Assert.Equal(("Nobody answered in time.", true), (Single<ToolApprovalDenied>(events).Reason, Single<ToolApprovalDenied>(events).TimedOut));
    }

    [Fact]
    public void Old_run_events_speak_the_run_vocabulary()
    {
        var events = Rows().Select((row, i) => SessionLog.Deserialize(Guid.Empty, i + 1, row.Type, row.Json)).ToList();

        var ended = events.Select(e => e.Data).OfType<IRunEnded>().ToList();
        Assert.Equal([RunStatus.Completed, RunStatus.Failed, RunStatus.Cancelled], ended.Select(e => e.Status));
        Assert.All(events.Select(e => e.Data).OfType<IRunEvent>(), e => Assert.Equal(RunId, e.RunId));
        // The first end is the end: what follows it does not move the run.
        Assert.Equal(RunStatus.Completed, RunHistory.StatusOf(events, RunId));
    }

    private static T Single<T>(IEnumerable<SessionEvent> events) => events.Select(e => e.Data).OfType<T>().Single();
}
