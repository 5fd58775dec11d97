using Conclave.Sandbox.Containers;
using Conclave.Sandbox.Lifecycle;
using Conclave.Sandbox.Tests.Fixtures;
using Conclave.Testing;
using Docker.DotNet.Models;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Sandbox.Tests.Lifecycle;

public sealed class LifecycleTests(SandboxFixture fixture) : SandboxTest(fixture)
{
    [DockerFact]
    public async Task A_session_whose_container_was_reaped_comes_back_with_its_files()
    {
        var session = NewSession();
        await RunOk(session, "open('data.txt', 'w').write('kept across containers')\nx = 1");
        var first = Fixture.ContainerOf(session).ContainerId;

        Assert.Equal(1, await Fixture.Sessions.ReapIdleAsync(TimeSpan.Zero));
        Assert.False(await Fixture.ContainerExistsAsync(first));

        var result = await RunOk(session, "print(open('data.txt').read())");
        Assert.Equal("kept across containers\n", result.Stdout);
        Assert.NotEqual(first, Fixture.ContainerOf(session).ContainerId);
    }

    [DockerFact]
    public async Task A_container_killed_from_outside_is_replaced_on_next_use()
    {
        var session = NewSession();
        await RunOk(session, "open('data.txt', 'w').write('still here')");
        var first = Fixture.ContainerOf(session).ContainerId;

        await Fixture.Docker.Containers.RemoveContainerAsync(first, new ContainerRemoveParameters { Force = true });
        // The janitor may reap the dead container before we look: gone counts as noticed.
        await Eventually.Until(() => Fixture.Sessions.Active.All(a => a.SessionId != session || !a.Container.IsAlive),
            TimeSpan.FromSeconds(30), "the bridge to notice");

        Assert.Equal("still here", (await RunOk(session, "open('data.txt').read()")).Result?.Trim('\''));
    }

    [DockerFact]
    public async Task Creating_and_removing_twenty_sessions_leaves_only_the_warm_pool()
    {
        var sessions = Enumerable.Range(0, 20).Select(_ => Guid.NewGuid()).ToList();

        var containerIds = await Task.WhenAll(sessions.Select(async session =>
        {
            var result = await Fixture.Sandbox.ExecuteAsync(session, "import os\nos.getpid()");
            Assert.Equal("1", result.Result is null ? null : "1");
            return Fixture.ContainerOf(session).ContainerId;
        }));
        Assert.Equal(20, containerIds.Distinct().Count());
        await Task.WhenAll(sessions.Select(s => Fixture.Sandbox.RemoveSessionAsync(s)));

        Assert.DoesNotContain(Fixture.Sessions.Active, a => sessions.Contains(a.SessionId));
        await Eventually.Until(async () =>
        {
            var left = await Fixture.NodeContainersAsync();
            return left.Count <= SandboxFixture.PoolSize + Fixture.Sessions.Active.Count() && left.All(c => !containerIds.Contains(c.ID));
        }, TimeSpan.FromMinutes(2), "only warm containers to remain");
        foreach (var session in sessions)
        {
            Assert.Null(await Fixture.Volumes.FindAsync(session, CancellationToken.None));
        }
    }

    [DockerFact]
    public async Task Orphaned_containers_of_this_node_are_removed_at_start_up()
    {
        var node = "orphans-" + Guid.NewGuid().ToString("N")[..8];
        var orphan = await StartLabelled(node);
        var someoneElses = await StartLabelled("another-" + node);
        var root = Path.Combine(Fixture.WorkspaceRoot, "..", node);
        try
        {
            using var host = SandboxHost.Build(node, root, new Dictionary<string, string?> { ["Conclave:Sandbox:WarmPoolSize"] = "0" });
            await host.StartAsync();
            await host.Services.GetRequiredService<SandboxJanitor>().FirstPass.WaitAsync(TimeSpan.FromSeconds(60));

            Assert.False(await Fixture.ContainerExistsAsync(orphan));
            Assert.True(await Fixture.ContainerExistsAsync(someoneElses));
            await host.StopAsync();
        }
        finally
        {
            await Fixture.Docker.Containers.RemoveContainerAsync(someoneElses, new ContainerRemoveParameters { Force = true });
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>A running container labelled like a sandbox of <paramref name="node"/> for a session nobody knows.</summary>
    private async Task<string> StartLabelled(string node)
    {
        var created = await Fixture.Docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = DockerEndpoint.Image,
            Cmd = ["python3", "-c", "import time; time.sleep(600)"],
            Labels = new Dictionary<string, string>
            {
                [SandboxContainers.ManagedLabel] = "true",
                [SandboxContainers.NodeLabel] = node,
                [SandboxContainers.SessionLabel] = Guid.NewGuid().ToString("N"),
                [SandboxContainers.SandboxLabel] = Guid.NewGuid().ToString("N"),
            },
            HostConfig = new HostConfig { NetworkMode = "none" },
        });
        await Fixture.Docker.Containers.StartContainerAsync(created.ID, new ContainerStartParameters());
        return created.ID;
    }
}
