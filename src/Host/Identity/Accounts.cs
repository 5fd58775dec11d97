using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Conclave.Host.Identity;

/// <summary>Account creation under the registration rules: the first account is the admin, then the mode decides.</summary>
public sealed class Accounts(
    IdentityDb db,
    UserManager<IdentityUser> users,
    RoleManager<IdentityRole> roles,
    IOptions<ConclaveIdentityOptions> options,
    TimeProvider time)
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
        Invitation? invitation = null;
        if (!first)
        {
            switch (await RegistrationModeAsync(ct))
            {
                case RegistrationMode.Closed:
                    return (null, ["Registration is closed. Ask an admin for an account."]);
                case RegistrationMode.Invite:
                    invitation = string.IsNullOrWhiteSpace(invitationCode)
                        ? null
                        : await db.Invitations.SingleOrDefaultAsync(i => i.Code == invitationCode.Trim(), ct);
                    if (invitation is null || invitation.UsedBy is not null || invitation.ExpiresAt < time.GetUtcNow())
                    {
                        return (null, ["Registration needs a valid invitation code from an admin."]);
                    }

                    break;
            }
        }

        var user = new IdentityUser { UserName = userName.Trim(), Email = string.IsNullOrWhiteSpace(email) ? null : email.Trim() };
        var created = await users.CreateAsync(user, password);
        if (!created.Succeeded)
        {
            return (null, created.Errors.Select(e => e.Description).ToList());
        }

        if (invitation is not null)
        {
            invitation.UsedBy = user.Id;
            await db.SaveChangesAsync(ct);
        }

        // Two first registrations racing both saw no user: then neither becomes admin (configure one instead).
        if (first && await db.Users.CountAsync(ct) == 1)
        {
            await MakeAdminAsync(roles, users, user);
        }

        return (user, []);
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

    public static Task MakeAdminAsync(IServiceProvider services, IdentityUser user) =>
        MakeAdminAsync(services.GetRequiredService<RoleManager<IdentityRole>>(), services.GetRequiredService<UserManager<IdentityUser>>(), user);

    private static async Task MakeAdminAsync(RoleManager<IdentityRole> roles, UserManager<IdentityUser> users, IdentityUser user)
    {
        if (!await roles.RoleExistsAsync(IdentityStore.AdminRole))
        {
            await roles.CreateAsync(new IdentityRole(IdentityStore.AdminRole));
        }

        await users.AddToRoleAsync(user, IdentityStore.AdminRole);
    }
}
