using System.Security.Cryptography;
using Conclave.Identity.Contracts;
using Conclave.Identity.Store;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Conclave.Identity.Accounts;

/// <summary>Accounts under the registration rules (the first account is the admin, then the mode decides), invitations, and the user list.</summary>
internal sealed class UserAccounts(
    IdentityDb db,
    UserManager<IdentityUser> users,
    RoleManager<IdentityRole> roles,
    IOptions<ConclaveIdentityOptions> options,
    TimeProvider time) : IAccounts
{
    private const string RegistrationSetting = "registration-mode";

    public async Task<bool> AnyUserAsync(CancellationToken ct) => await db.Users.AnyAsync(ct);

    public async Task<RegistrationMode> RegistrationModeAsync(CancellationToken ct)
    {
        var stored = await db.Settings.AsNoTracking().SingleOrDefaultAsync(s => s.Name == RegistrationSetting, ct);
        return stored is not null && Enum.TryParse<RegistrationMode>(stored.Value, out var mode) ? mode : options.Value.Registration;
    }

    public async Task SetRegistrationModeAsync(RegistrationMode mode, CancellationToken ct)
    {
        var stored = await db.Settings.SingleOrDefaultAsync(s => s.Name == RegistrationSetting, ct);
        if (stored is null)
        {
            db.Settings.Add(new IdentitySetting { Name = RegistrationSetting, Value = mode.ToString() });
        }
        else
        {
            stored.Value = mode.ToString();
        }

        await db.SaveChangesAsync(ct);
    }

    /// <summary>Registers a local account; the errors say what to fix.</summary>
    public async Task<(IdentityUser? User, IReadOnlyList<string> Errors)> RegisterAsync(
        string userName, string? email, string password, string? invitationCode, CancellationToken ct)
    {
        var first = !await AnyUserAsync(ct);
        var mode = first ? RegistrationMode.Open : await RegistrationModeAsync(ct);
        if (mode == RegistrationMode.Closed)
        {
            return (null, ["Registration is closed. Ask an admin for an account."]);
        }

        if (mode == RegistrationMode.Invite && string.IsNullOrWhiteSpace(invitationCode))
        {
            return (null, [InvitationNeeded]);
        }

        var user = new IdentityUser { UserName = userName.Trim(), Email = string.IsNullOrWhiteSpace(email) ? null : email.Trim() };
        // The code is claimed and the user created in one transaction: of two registrations racing with
        // one code, the second's UPDATE waits for the first to commit, then finds the code used. A user
        // that cannot be created (a weak password, a taken name) rolls the claim back.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (mode == RegistrationMode.Invite && !await ClaimInvitationAsync(invitationCode!.Trim(), user.Id, ct))
        {
            return (null, [InvitationNeeded]);
        }

        var created = await users.CreateAsync(user, password);
        if (!created.Succeeded)
        {
            return (null, created.Errors.Select(e => e.Description).ToList());
        }

        await transaction.CommitAsync(ct);

        // Two first registrations racing both saw no user: then neither becomes admin (configure one instead).
        if (first && await db.Users.CountAsync(ct) == 1)
        {
            await MakeAdminAsync(roles, users, user);
        }

        return (user, []);
    }

    private const string InvitationNeeded = "Registration needs a valid invitation code from an admin.";

    /// <summary>Marks an unused, unexpired code as used by <paramref name="userId"/>; false when there is no such code.</summary>
    private async Task<bool> ClaimInvitationAsync(string code, string userId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var claimed = await db.Invitations
            .Where(i => i.Code == code && i.UsedBy == null && i.ExpiresAt >= now)
            .ExecuteUpdateAsync(set => set.SetProperty(i => i.UsedBy, userId), ct);
        return claimed == 1;
    }

    /// <summary>A new user from Google/GitHub: allowed as the first account or when registration is open.</summary>
    public async Task<(IdentityUser? User, IReadOnlyList<string> Errors)> RegisterExternalAsync(string userName, string? email, CancellationToken ct)
    {
        var first = !await AnyUserAsync(ct);
        if (!first && await RegistrationModeAsync(ct) != RegistrationMode.Open)
        {
            return (null, ["Registration is not open. Ask an admin for an account or an invitation."]);
        }

        var user = new IdentityUser { UserName = userName, Email = email };
        var created = await users.CreateAsync(user);
        if (!created.Succeeded)
        {
            return (null, created.Errors.Select(e => e.Description).ToList());
        }

        if (first && await db.Users.CountAsync(ct) == 1)
        {
            await MakeAdminAsync(roles, users, user);
        }

        return (user, []);
    }

    public async Task<string> CreateInvitationAsync(string adminId, CancellationToken ct)
    {
        var code = Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();
        var now = time.GetUtcNow();
        db.Invitations.Add(new Invitation { Code = code, CreatedBy = adminId, CreatedAt = now, ExpiresAt = now.AddDays(7) });
        await db.SaveChangesAsync(ct);
        return code;
    }

    public async Task<IReadOnlyList<UserAccount>> ListAsync(int max, CancellationToken ct)
    {
        var list = await users.Users.OrderBy(u => u.UserName).Take(max).ToListAsync(ct);
        var admins = (await users.GetUsersInRoleAsync(ConclaveRoles.Admin)).Select(u => u.Id).ToHashSet();
        return [.. list.Select(u => Describe(u, admins.Contains(u.Id)))];
    }

    public async Task<UserAccount?> FindAsync(string userId, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        return await users.FindByIdAsync(userId) is { } user ? Describe(user, await users.IsInRoleAsync(user, ConclaveRoles.Admin)) : null;
    }

    private static UserAccount Describe(IdentityUser user, bool admin) =>
        new(user.Id, user.UserName ?? "", user.Email, admin, user.LockoutEnd);

    public static Task MakeAdminAsync(IServiceProvider services, IdentityUser user) =>
        MakeAdminAsync(services.GetRequiredService<RoleManager<IdentityRole>>(), services.GetRequiredService<UserManager<IdentityUser>>(), user);

    private static async Task MakeAdminAsync(RoleManager<IdentityRole> roles, UserManager<IdentityUser> users, IdentityUser user)
    {
        if (!await roles.RoleExistsAsync(ConclaveRoles.Admin))
        {
            await roles.CreateAsync(new IdentityRole(ConclaveRoles.Admin));
        }

        await users.AddToRoleAsync(user, ConclaveRoles.Admin);
    }
}
