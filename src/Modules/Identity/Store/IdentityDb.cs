using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Conclave.Identity.Store;

/// <summary>
/// Users, roles, OpenIddict's applications/authorizations/tokens, the Data Protection key ring and
/// the few identity settings, all in the <c>identity</c> schema of the Conclave database.
/// </summary>
internal sealed class IdentityDb(DbContextOptions<IdentityDb> options)
    : IdentityDbContext<IdentityUser>(options), IDataProtectionKeyContext
{
    public const string Schema = "identity";

    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<IdentitySetting> Settings => Set<IdentitySetting>();

    public DbSet<Invitation> Invitations => Set<Invitation>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.HasDefaultSchema(Schema);
        builder.UseOpenIddict();
        builder.Entity<IdentitySetting>(e =>
        {
            e.ToTable("settings");
            e.HasKey(s => s.Name);
            e.Property(s => s.Name).HasMaxLength(100);
            e.Property(s => s.Value).HasMaxLength(1000);
        });
        builder.Entity<Invitation>(e =>
        {
            e.ToTable("invitations");
            e.HasKey(i => i.Code);
            e.Property(i => i.Code).HasMaxLength(64);
            e.Property(i => i.CreatedBy).HasMaxLength(450);
            e.Property(i => i.UsedBy).HasMaxLength(450);
        });
    }
}

/// <summary>A setting an admin changes at run time (e.g. the registration mode).</summary>
internal sealed class IdentitySetting
{
    public required string Name { get; set; }

    public required string Value { get; set; }
}

/// <summary>A one-time code an admin hands out when registration is by invitation.</summary>
internal sealed class Invitation
{
    public required string Code { get; set; }

    public required string CreatedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public string? UsedBy { get; set; }
}
