using Conclave.Sessions.Contracts;

namespace Conclave.Sessions.Tests.Contracts;

public sealed class UsageTallyTests
{
    [Fact]
    public void A_priced_call_adds_its_cost()
    {
        var tally = UsageTally.None.Add(new TokenUsage(100, 20), 0.01m).Add(new TokenUsage(50, 5), 0.02m);

        Assert.Equal(new UsageTally(150, 25, 0.03m, 0), tally);
        Assert.False(tally.CostIsLowerBound);
        Assert.Equal("$0.03", tally.CostText());
    }

    [Fact]
    public void A_call_without_a_price_is_unknown_never_zero()
    {
        var tally = UsageTally.None.Add(new TokenUsage(100, 20), null);

        Assert.Equal((0m, 1), (tally.KnownCost, tally.UnpricedCalls));
        Assert.True(tally.CostIsLowerBound);
        Assert.Equal("cost unknown (no price set)", tally.CostText());
    }

    [Fact]
    public void A_partly_priced_total_reads_as_a_lower_bound()
    {
        var tally = UsageTally.None.Add(new TokenUsage(100, 20), 0.5m).Add(new TokenUsage(10, 1), null);

        Assert.Equal("≥ $0.5 (some prices unknown)", tally.CostText());
        Assert.StartsWith("131 tokens · ≥ $0.5", tally.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_call_that_used_no_tokens_and_has_no_price_costs_nothing_unknown()
    {
        var tally = UsageTally.None.Add(TokenUsage.None, null);

        Assert.Equal(UsageTally.None, tally);
        Assert.Equal("0 tokens", tally.ToString());
    }

    [Fact]
    public void A_price_of_zero_is_a_known_price()
    {
        var tally = UsageTally.None.Add(new TokenUsage(100, 20), 0m);

        Assert.Equal((0m, 0), (tally.KnownCost, tally.UnpricedCalls));
        Assert.Equal("$0", tally.CostText());
    }

    [Fact]
    public void Read_models_and_totals_show_their_fields_as_one_tally()
    {
        var run = new RunSummary { PromptTokens = 10, CompletionTokens = 2, Cost = 0.1m, UnpricedCalls = 1 };
        var session = new SessionSummary { PromptTokens = 10, CompletionTokens = 2, Cost = 0.1m, UnpricedMessages = 1 };
        var totals = new UsageTotals(1, 10, 2, 0.1m, 1);

        Assert.All([run.Usage, session.Usage, totals.Usage], u => Assert.Equal(new UsageTally(10, 2, 0.1m, 1), u));
    }
}
