using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Conclave.Host.Tests.MultiNode;

/// <summary>Node B of <see cref="ListenerReconnectTests"/>, reconnecting its listener slowly enough to be caught while it is down.</summary>
public sealed class SlowReconnectApp : ConclaveApp
{
    public SlowReconnectApp() => ExtraSettings["Conclave:Node:ListenerBackoff"] = "00:00:03";
}

/// <summary>Notices sent while a node's listener is down are lost; the node makes up for them when it reconnects.</summary>
public sealed class ListenerReconnectTests(SlowReconnectApp nodeB) : IClassFixture<SlowReconnectApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_commit_made_while_the_listener_was_down_reaches_the_client_once_it_is_back()
    {
        var nodeA = ConclaveApp.SecondNodeOf(nodeB, kestrel: false);
        await nodeA.InitializeAsync();
        try
        {
            var session = await nodeB.CreateSessionAsync("reconnect");
            await using var watch = LiveWatch.Start(nodeB.Client, session.Id);
            await watch.UntilTypeAsync(nameof(SessionStarted), Deadline);

            await using (var db = new NpgsqlConnection(nodeB.ConnectionString))
            {
                await db.OpenAsync();
                // Every node's listening connection (both nodes here), as a network cut or a failover would.
                await using var cut = new NpgsqlCommand(
                    "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query like 'LISTEN %'", db);
                await cut.ExecuteNonQueryAsync();
            }

            await Eventually.Until(async () => await LiveFeedAsync(nodeB) == HealthStatus.Degraded, Deadline, "node B notices its listener is gone");
            var version = await nodeA.Service<ISessionLog>().AppendAsync(session.Id, [new SessionRenamed("renamed on A", DateTimeOffset.UtcNow)], CancellationToken.None);
            Assert.Equal(HealthStatus.Degraded, await LiveFeedAsync(nodeB)); // the notice went out while B was not listening

            await watch.UntilAsync(events => events.Any(e => e.Version == version), Deadline, "the rename made on A while B was deaf");
            Assert.Equal(HealthStatus.Healthy, await LiveFeedAsync(nodeB));
            Assert.Equal(Enumerable.Range(1, (int)version).Select(v => (long)v), watch.Events.Select(e => e.Version));
        }
        finally
        {
            await nodeA.DisposeAsync();
        }
    }

    private static async Task<HealthStatus> LiveFeedAsync(ConclaveApp node) =>
        (await node.Service<HealthCheckService>().CheckHealthAsync(check => check.Name == "live-feed")).Status;
}
