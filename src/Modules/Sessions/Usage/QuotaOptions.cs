using System.ComponentModel.DataAnnotations;

namespace Conclave.Sessions.Usage;

/// <summary>What one user may use (<c>Conclave:Quotas</c>); checked before a run is queued.</summary>
public sealed class QuotaOptions
{
    public const string Section = "Conclave:Quotas";

    /// <summary>Runs a user may have queued or running at once.</summary>
    [Range(1, 1000)]
    public int MaxConcurrentRuns { get; set; } = 5;

    /// <summary>Tokens a user may use per UTC day; null means no limit.</summary>
    [Range(1L, long.MaxValue)]
    public long? DailyTokenBudget { get; set; }

    /// <summary>US dollars a user may spend per UTC day (on priced providers); null means no limit.</summary>
    [Range(typeof(decimal), "0.0001", "1000000")]
    public decimal? DailyCostBudget { get; set; }
}
