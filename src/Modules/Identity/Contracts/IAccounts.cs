namespace Conclave.Identity.Contracts;

/// <summary>The accounts and the registration rules, as the account and admin pages read and change them.</summary>
public interface IAccounts
{
    /// <summary>False on a fresh install: then the first account to register becomes the admin.</summary>
    Task<bool> AnyUserAsync(CancellationToken ct);

    /// <summary>The registration mode an admin chose on the admin page, else the configured one.</summary>
    Task<RegistrationMode> RegistrationModeAsync(CancellationToken ct);

    Task SetRegistrationModeAsync(RegistrationMode mode, CancellationToken ct);

    /// <summary>A one-time invitation code, valid for 7 days, made by the admin <paramref name="adminId"/>.</summary>
    Task<string> CreateInvitationAsync(string adminId, CancellationToken ct);

    /// <summary>At most <paramref name="max"/> users, by user name.</summary>
    Task<IReadOnlyList<UserAccount>> ListAsync(int max, CancellationToken ct);

    /// <summary>The account whose owner id is <paramref name="userId"/>; null when there is none.</summary>
    Task<UserAccount?> FindAsync(string userId, CancellationToken ct);
}

/// <param name="Id">The owner id (see <see cref="Owners"/>).</param>
/// <param name="LockedUntil">Set when an admin locked the account (failed passwords never do).</param>
public sealed record UserAccount(string Id, string UserName, string? Email, bool IsAdmin, DateTimeOffset? LockedUntil);
