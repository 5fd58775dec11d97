using Conclave.Sessions.Contracts;
using Conclave.Testing.Host;
using Npgsql;

namespace Conclave.Host.Tests.Sessions;

/// <summary>A lease is renewed by its holder only, in one statement that still counts as a change for optimistic savers.</summary>
[Collection(SharedHost.Name)]
public sealed class RunLeaseTests(ConclaveApp app)
{
    [Fact]
    public async Task Only_the_holder_renews_and_a_renewal_moves_the_lease_version_on()
    {
        var leases = app.Service<IRunLeases>();
        var (sessionId, runId) = (Guid.NewGuid(), Guid.NewGuid());
        Assert.True(await leases.TryAcquireAsync(sessionId, runId, "node-a", CancellationToken.None));
        var acquired = await RowAsync(runId);

        Assert.True(await leases.RenewAsync(runId, "node-a", CancellationToken.None));
        var renewed = await RowAsync(runId);

        Assert.NotEqual(acquired.Version, renewed.Version);
        Assert.True(renewed.HeartbeatAt >= acquired.HeartbeatAt);
        Assert.False(await leases.RenewAsync(runId, "node-b", CancellationToken.None));
        Assert.False(await leases.TryAcquireAsync(sessionId, runId, "node-b", CancellationToken.None)); // held by a live node
    }

    [Fact]
    public async Task A_lease_left_stale_is_taken_over_and_its_old_holder_can_no_longer_renew_it()
    {
        var leases = app.Service<IRunLeases>();
        var (sessionId, runId) = (Guid.NewGuid(), Guid.NewGuid());
        Assert.True(await leases.TryAcquireAsync(sessionId, runId, "node-a", CancellationToken.None));
        Assert.True(await leases.RenewAsync(runId, "node-a", CancellationToken.None));

        // A renewed lease is read and saved by Marten as any other: the node shutting down leaves it stale.
        await leases.ReleaseAsync(runId, "node-a", runGoesOn: true, CancellationToken.None);

        Assert.True(await leases.TryAcquireAsync(sessionId, runId, "node-b", CancellationToken.None));
        Assert.False(await leases.RenewAsync(runId, "node-a", CancellationToken.None));
        Assert.True(await leases.RenewAsync(runId, "node-b", CancellationToken.None));
    }

    private async Task<(Guid Version, DateTimeOffset HeartbeatAt)> RowAsync(Guid runId)
    {
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select mt_version, (data ->> 'HeartbeatAt')::timestamptz from sessions.mt_doc_runlease where id = $1", connection)
        {
            Parameters = { new() { Value = runId } },
        };
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetGuid(0), reader.GetFieldValue<DateTimeOffset>(1));
    }
}
