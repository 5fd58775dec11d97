using Conclave.Sessions.Contracts;
using Marten;
using Microsoft.Extensions.Options;

namespace Conclave.Sessions.Runs;

/// <summary>Checks a user's quotas before a run is queued: nothing is appended when one is exceeded.</summary>
internal sealed class Quotas(IDocumentStore store, IOptionsMonitor<QuotaOptions> options, TimeProvider clock)
{
    /// <param name="ending">Runs the same request ends (an edit supersedes its run), which do not count.</param>
    public async Task CheckAsync(string ownerId, IReadOnlyCollection<Guid> ending, CancellationToken cancellationToken)
    {
        var quota = options.CurrentValue;
        await using var session = store.QuerySession();
        var active = await session.Query<RunSummary>()
            // Active, not Status: patched enums are stored as numbers, and a flag queries the same either way.
            .Where(r => r.OwnerId == ownerId && r.Active)
            .Select(r => r.Id)
            .ToListAsync(cancellationToken);
        if (active.Count(id => !ending.Contains(id)) >= quota.MaxConcurrentRuns)
        {
            throw new QuotaExceededException(
                $"You have {quota.MaxConcurrentRuns} run(s) going, the most allowed at once. Wait for one to finish, or stop one.", null);
        }

        if (quota.DailyTokenBudget is null && quota.DailyCostBudget is null)
        {
            return;
        }

        var now = clock.GetUtcNow();
        var midnight = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        var today = await session.Query<RunSummary>()
            .Where(r => r.OwnerId == ownerId && r.QueuedAt >= midnight)
            .Select(r => new { r.PromptTokens, r.CompletionTokens, r.Cost })
            .ToListAsync(cancellationToken);
        var retryAfter = midnight.AddDays(1) - now;
        var tokens = today.Sum(r => r.PromptTokens + r.CompletionTokens);
        if (quota.DailyTokenBudget is { } tokenBudget && tokens >= tokenBudget)
        {
            throw new QuotaExceededException(
                $"You have used {tokens:N0} tokens today; the daily budget is {tokenBudget:N0}. It renews at midnight UTC.", retryAfter);
        }

        var cost = today.Sum(r => r.Cost);
        if (quota.DailyCostBudget is { } costBudget && cost >= costBudget)
        {
            throw new QuotaExceededException(
                $"You have spent ${cost:0.####} today; the daily budget is ${costBudget:0.####}. It renews at midnight UTC.", retryAfter);
        }
    }
}
