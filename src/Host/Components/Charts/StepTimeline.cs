using Conclave.Sessions.Contracts;

namespace Conclave.Host.Components.Charts;

/// <summary>One bar of a run's step timeline: a model message, a speaker selection or a tool call, by time from the run's start.</summary>
/// <param name="Kind"><c>message</c>, <c>select</c> or <c>tool</c>.</param>
public sealed record TimelineBar(string Label, string Kind, TimeSpan Start, TimeSpan End, string Detail)
{
    public TimeSpan Length => End - Start;
}

/// <summary>
/// A run's steps by time, read from its events: a message lasts from the previous step's end to its own; a tool call
/// its measured duration before its end. Pauses are gaps. At most <see cref="MaxBars"/> bars (the first ones).
/// </summary>
public sealed record StepTimeline(TimeSpan Length, IReadOnlyList<TimelineBar> Bars, int Omitted)
{
    public const int MaxBars = 60;

    public static StepTimeline Of(Guid runId, IEnumerable<SessionEvent> events)
    {
        var bars = new List<TimelineBar>();
        DateTimeOffset? start = null;
        DateTimeOffset? cursor = null;
        DateTimeOffset? end = null;
        foreach (var e in events.Where(e => e.Data is IRunEvent r && r.RunId == runId).OrderBy(e => e.Version))
        {
            switch (e.Data)
            {
                case RunQueued queued:
                    start ??= queued.At;
                    cursor ??= queued.At;
                    break;
                case RunStarted or RunResumed:
                    start ??= e.At;
                    cursor = e.At;
                    break;
                case AgentMessageCompleted message:
                    Add(message.Agent, "message", message.At, $"{message.Model}, {message.Usage.TotalTokens:N0} tokens");
                    break;
                case SpeakerSelected selected:
                    Add("next speaker", "select", selected.At, $"{selected.Model} chose {selected.Agent}");
                    break;
                case ToolCallCompleted tool:
                    Add(tool.Tool, "tool", tool.At, $"{tool.Agent}, {tool.Outcome.ToString().ToLowerInvariant()}", tool.At - tool.Duration);
                    break;
                case IRunEnded ended:
                    end = ended.At;
                    break;
            }
        }

        var length = start is { } s ? ((end ?? cursor ?? s) - s) : TimeSpan.Zero;
        return new StepTimeline(length < TimeSpan.Zero ? TimeSpan.Zero : length, bars.Take(MaxBars).ToList(), Math.Max(0, bars.Count - MaxBars));

        void Add(string label, string kind, DateTimeOffset at, string detail, DateTimeOffset? from = null)
        {
            start ??= from ?? at;
            var begin = from is { } f && cursor is { } c ? (f > c ? f : c) : from ?? cursor ?? at;
            bars.Add(new TimelineBar(label, kind, Clamp(begin - start.Value), Clamp(at - start.Value), detail));
            cursor = at;
        }
    }

    private static TimeSpan Clamp(TimeSpan value) => value < TimeSpan.Zero ? TimeSpan.Zero : value;
}
