using Conclave.Identity.Accounts;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Identity.Store;

/// <summary>
/// Creates the <c>identity</c> schema when it does not exist yet (under an advisory lock, so
/// replicas starting together create it once) and the configured admin account. Runs before every
/// other hosted service: the Data Protection key ring and OpenIddict read from this schema.
/// </summary>
internal sealed class IdentityStore(IServiceScopeFactory scopes, IOptions<ConclaveIdentityOptions> options, ILogger<IdentityStore> logger)
    : IHostedService
{
    // Any constant distinct from other advisory locks taken on this database.
    private const long SchemaLock = 0x436f6e636c617665;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDb>();
        await CreateSchemaAsync(db, cancellationToken);
        await EnsureAdminFromConfigurationAsync(scope.ServiceProvider, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task CreateSchemaAsync(IdentityDb db, CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock({SchemaLock})", ct);
            try
            {
                var exists = await db.Database
                    .SqlQuery<bool>($"SELECT to_regclass('identity.\"AspNetUsers\"') IS NOT NULL AS \"Value\"")
                    .SingleAsync(ct);
                if (!exists)
                {
                    await db.Database.ExecuteSqlRawAsync($"CREATE SCHEMA IF NOT EXISTS {IdentityDb.Schema}", ct);
                    // Not EnsureCreated: it does nothing when any table exists in the database, and
                    // Marten and Wolverine own tables in the same database.
                    await db.GetService<IRelationalDatabaseCreator>().CreateTablesAsync(ct);
                    logger.LogInformation("Created the identity schema");
                }
            }
            finally
            {
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({SchemaLock})", ct);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private async Task EnsureAdminFromConfigurationAsync(IServiceProvider services, CancellationToken ct)
    {
        var settings = options.Value;
        if (string.IsNullOrWhiteSpace(settings.AdminUserName) || string.IsNullOrWhiteSpace(settings.AdminPassword))
        {
            return;
        }

        var users = services.GetRequiredService<UserManager<IdentityUser>>();
        if (await users.FindByNameAsync(settings.AdminUserName) is not null)
        {
            return;
        }

        ct.ThrowIfCancellationRequested();
        var admin = new IdentityUser { UserName = settings.AdminUserName, Email = settings.AdminEmail };
        var created = await users.CreateAsync(admin, settings.AdminPassword);
        if (!created.Succeeded)
        {
            throw new InvalidOperationException(
                "Conclave:Identity:AdminUserName/AdminPassword could not create the admin: " +
                string.Join(" ", created.Errors.Select(e => e.Description)));
        }

        await UserAccounts.MakeAdminAsync(services, admin);
        logger.LogInformation("Created the admin account {UserName} from configuration", settings.AdminUserName);
    }
}
