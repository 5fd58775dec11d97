using Conclave.Sessions.Contracts;
using Conclave.Sessions.Telemetry;
using Marten;
using Microsoft.Extensions.Options;

namespace Conclave.Sessions.Usage;

/// <summary>A user's own limits, set by an admin (a Marten document keyed by owner id).</summary>
internal sealed class UserQuota
{
    public string Id { get; set; } = "";
    public int? MaxConcurrentRuns { get; set; }
    public long? DailyTokenBudget { get; set; }
    public decimal? DailyCostBudget { get; set; }
}

/// <summary>Checks a user's quotas before a run is queued: nothing is appended when one is exceeded.</summary>
internal sealed class Quotas(IDocumentStore store, IOptionsMonitor<QuotaOptions> options, TimeProvider clock, SessionMetrics metrics) : IQuotas
{
    public QuotaSettings Defaults =>
        new(options.CurrentValue.MaxConcurrentRuns, options.CurrentValue.DailyTokenBudget, options.CurrentValue.DailyCostBudget, false);

    public async Task<QuotaSettings> GetAsync(string ownerId, CancellationToken cancellationToken)
    {
        var defaults = options.CurrentValue;
        await using var session = store.QuerySession();
        var own = await session.LoadAsync<UserQuota>(ownerId, cancellationToken);
        return new QuotaSettings(
            own?.MaxConcurrentRuns ?? defaults.MaxConcurrentRuns,
            own?.DailyTokenBudget ?? defaults.DailyTokenBudget,
            own?.DailyCostBudget ?? defaults.DailyCostBudget,
            own is not null);
    }

    public async Task SetAsync(string ownerId, QuotaOverride? limits, CancellationToken cancellationToken)
    {
        if (limits is { MaxConcurrentRuns: < 1 or > 1000 })
        {
            throw new SessionValidationException("maxConcurrentRuns", "The number of runs at once must be between 1 and 1000.");
        }

        if (limits is { DailyTokenBudget: < 1 })
        {
            throw new SessionValidationException("dailyTokenBudget", "The daily token budget must be at least 1 (or empty for the default).");
        }

        if (limits is { DailyCostBudget: <= 0 })
        {
            throw new SessionValidationException("dailyCostBudget", "The daily cost budget must be more than 0 (or empty for the default).");
        }

        await using var session = store.LightweightSession();
        if (limits is null)
        {
            session.Delete<UserQuota>(ownerId);
        }
        else
        {
            session.Store(new UserQuota
            {
                Id = ownerId,
                MaxConcurrentRuns = limits.MaxConcurrentRuns,
                DailyTokenBudget = limits.DailyTokenBudget,
                DailyCostBudget = limits.DailyCostBudget,
            });
        }

        await session.SaveChangesAsync(cancellationToken);
    }

    public Task<IReadOnlyDictionary<string, UsageTotals>> UsageByOwnerAsync(DateTimeOffset since, CancellationToken cancellationToken) =>
        RunUsageQuery.SinceAsync(store, since, null, cancellationToken);

    /// <param name="ending">Runs the same request ends (an edit supersedes its run), which do not count.</param>
    public async Task CheckAsync(string ownerId, IReadOnlyCollection<Guid> ending, CancellationToken cancellationToken)
    {
        var quota = await GetAsync(ownerId, cancellationToken);
        await using var session = store.QuerySession();
        var active = await session.Query<RunSummary>()
            // Active, not Status: patched enums are stored as numbers, and a flag queries the same either way.
            .Where(r => r.OwnerId == ownerId && r.Active)
            .Select(r => r.Id)
            .ToListAsync(cancellationToken);
        if (active.Count(id => !ending.Contains(id)) >= quota.MaxConcurrentRuns)
        {
            metrics.QuotaRefused("concurrent_runs");
            throw new QuotaExceededException(
                $"You have {quota.MaxConcurrentRuns} run(s) going, the most allowed at once. Wait for one to finish, or stop one.", null);
        }

        if (quota.DailyTokenBudget is null && quota.DailyCostBudget is null)
        {
            return;
        }

        var now = clock.GetUtcNow();
        var midnight = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        var today = await RunUsageQuery.OfAsync(store, ownerId, midnight, cancellationToken);
        var retryAfter = midnight.AddDays(1) - now;
        var tokens = today.TotalTokens;
        if (quota.DailyTokenBudget is { } tokenBudget && tokens >= tokenBudget)
        {
            metrics.QuotaRefused("daily_tokens");
            throw new QuotaExceededException(
                $"You have used {tokens:N0} tokens today; the daily budget is {tokenBudget:N0}. It renews at midnight UTC.", retryAfter);
        }

        var cost = today.Cost;
        if (quota.DailyCostBudget is { } costBudget && cost >= costBudget)
        {
            metrics.QuotaRefused("daily_cost");
            throw new QuotaExceededException(
                $"You have spent ${cost:0.####} today; the daily budget is ${costBudget:0.####}. It renews at midnight UTC.", retryAfter);
        }
    }
}
