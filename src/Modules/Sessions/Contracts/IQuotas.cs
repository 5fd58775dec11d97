namespace Conclave.Sessions.Contracts;

/// <summary>
/// What each user may use, and what they used. Defaults come from configuration
/// (<c>Conclave:Quotas</c>); an admin can set a user's own limits, which replace them.
/// </summary>
public interface IQuotas
{
    /// <summary>The installation's defaults, for users without their own limits.</summary>
    QuotaSettings Defaults { get; }

    /// <summary>The limits that apply to the user now.</summary>
    Task<QuotaSettings> GetAsync(string ownerId, CancellationToken cancellationToken);

    /// <summary>Sets the user's own limits (null fields keep the defaults); <c>null</c> removes them.</summary>
    Task SetAsync(string ownerId, QuotaOverride? limits, CancellationToken cancellationToken);

    /// <summary>Every user's usage since <paramref name="since"/>, by owner id (for admins: no keys, no content).</summary>
    Task<IReadOnlyDictionary<string, UsageTotals>> UsageByOwnerAsync(DateTimeOffset since, CancellationToken cancellationToken);
}

/// <param name="Custom">True when an admin set the user's own limits.</param>
public sealed record QuotaSettings(int MaxConcurrentRuns, long? DailyTokenBudget, decimal? DailyCostBudget, bool Custom);

/// <summary>A user's own limits; a null field falls back to the default.</summary>
public sealed record QuotaOverride(int? MaxConcurrentRuns, long? DailyTokenBudget, decimal? DailyCostBudget);
