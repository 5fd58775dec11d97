using Conclave.Agents.Runs;
using Conclave.Sessions.Contracts;

namespace Conclave.Agents.Tests.Runs;

/// <summary>An answer's [n] markers name passages given in the session; those are the citations kept with it.</summary>
public sealed class CitedPassagesTests
{
    private static readonly Guid Terms = Guid.NewGuid();

    [Fact]
    public void Passages_given_in_earlier_runs_and_this_one_are_numbered_on_and_known_to_the_run()
    {
        var log = new RunLog();
        log.Add(Searched(Guid.NewGuid(), Passage(1), Passage(2))); // an earlier run's search
        log.Add(Searched(log.RunId, Passage(3)));

        Assert.Equal([1, 2, 3], log.State.Passages.Keys.Order());
        Assert.Equal(4, log.State.NextPassageNumber);
        Assert.Equal(1, new RunLog().State.NextPassageNumber);
    }

    [Fact]
    public void The_markers_of_an_answer_resolve_to_the_passages_they_name_in_number_order()
    {
        var passages = Enumerable.Range(1, 5).ToDictionary(n => n, Passage);

        var cited = CitedPassages.Of("Warranty is 24 months [3]. Refunds [1, 2]; returns [2-4][9] and [1].", passages);

        Assert.Equal([1, 2, 3, 4], cited.Select(c => c.Number));
        Assert.Empty(CitedPassages.Of("No citation here, only [x] and [0].", passages));
        Assert.Empty(CitedPassages.Of("[1]", new Dictionary<int, Citation>()));
    }

    [Fact]
    public void An_answer_keeps_at_most_the_bounded_number_of_citations()
    {
        var passages = Enumerable.Range(1, 40).ToDictionary(n => n, Passage);
        var text = string.Concat(Enumerable.Range(1, 40).Reverse().Select(n => $"claim [{n}] "));

        var cited = CitedPassages.Of(text, passages);

        Assert.Equal(MessageCited.MaxCitations, cited.Count);
        Assert.Equal(Enumerable.Range(21, 20), cited.Select(c => c.Number)); // the first cited, in number order
    }

    private static Citation Passage(int number) => new(number, Terms, "terms.pdf", number, null, $"Passage {number}.");

    private static ToolCallCompleted Searched(Guid runId, params Citation[] passages) =>
        new(runId, "call_" + Guid.NewGuid().ToString("N")[..8], "Assistant", "search_knowledge", "...", ToolOutcome.Ok, [], TimeSpan.Zero, RunLog.Start, passages);
}
