using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json;
using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Tests.Fixtures;
using Conclave.Testing;

namespace Conclave.Sandbox.Tests.Isolation;

/// <summary>What code in a sandbox must not reach: the Host's environment, network, files, other sessions.</summary>
public sealed class IsolationTests(SandboxFixture fixture) : SandboxTest(fixture)
{
    [DockerFact]
    public async Task The_hosts_environment_variables_are_not_visible()
    {
        Assert.Equal(SandboxFixture.Secret, Environment.GetEnvironmentVariable(SandboxFixture.SecretName));
        var session = NewSession();

        var result = await RunOk(session, """
            import os
            print(os.environ.get('CONCLAVE_TEST_SECRET'))
            print(open('/proc/self/environ', 'rb').read().replace(b'\0', b'\n').decode())
            print(sorted(os.environ))
            try:
                open('/proc/1/environ', 'rb').read()
                print('bridge environment readable')
            except PermissionError:
                print('bridge environment private')
            """);

        Assert.StartsWith("None\n", result.Stdout);
        Assert.Contains("bridge environment private", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(SandboxFixture.Secret, result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(SandboxFixture.SecretName, result.Stdout, StringComparison.Ordinal);
    }

    [DockerFact]
    public async Task The_network_is_unreachable()
    {
        using var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var hostAddress = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? IPAddress.Loopback;
        var session = NewSession();

        var result = await RunOk(session, $$"""
            import json, socket, time
            def tcp(host, port):
                started = time.monotonic()
                try:
                    socket.create_connection((host, port), timeout=5).close()
                    outcome = 'connected'
                except OSError as e:
                    outcome = type(e).__name__
                return {'outcome': outcome, 'seconds': time.monotonic() - started}
            try:
                socket.getaddrinfo('deb.debian.org', 80)
                dns = 'resolved'
            except OSError as e:
                dns = type(e).__name__
            print(json.dumps({
                'dns': dns,
                'loopback': tcp('127.0.0.1', {{port}}),
                'host': tcp('{{hostAddress}}', {{port}}),
                'internet': tcp('1.1.1.1', 80),
                'interfaces': [name for _, name in socket.if_nameindex()],
            }))
            """);

        using var report = JsonDocument.Parse(result.Stdout);
        var root = report.RootElement;
        Assert.NotEqual("resolved", root.GetProperty("dns").GetString());
        foreach (var target in new[] { "loopback", "host", "internet" })
        {
            Assert.NotEqual("connected", root.GetProperty(target).GetProperty("outcome").GetString());
        }
        Assert.True(root.GetProperty("internet").GetProperty("seconds").GetDouble() < 1, "1.1.1.1 must fail fast, not time out");
        Assert.Equal(["lo"], root.GetProperty("interfaces").EnumerateArray().Select(e => e.GetString()));
        Assert.False(listener.Pending(), "the test's listener must not have seen a connection");
    }

    /// <remarks>/dev/shm is also writable: a private, size-limited tmpfs every engine gives (multiprocessing needs it).</remarks>
    [DockerFact]
    public async Task The_root_filesystem_is_read_only_and_only_workspace_and_tmp_are_writable()
    {
        var session = NewSession();

        var result = await RunOk(session, """
            import json, os
            outcome = {}
            for path in ['/x', '/etc/x', '/etc/passwd', '/usr/x', '/usr/lib/python3/dist-packages/x.py', '/opt/conclave/kernel_bridge.py',
                         '/var/x', '/var/tmp/x', '/run/x', '/root/x', '/home/x', '/bin/x', '/proc/sys/kernel/hostname',
                         '/workspace/ok.txt', '/tmp/ok.txt']:
                try:
                    with open(path, 'a') as f:
                        f.write('x')
                    outcome[path] = 'written'
                except OSError as e:
                    outcome[path] = e.errno
            status = dict(line.split(':\t', 1) for line in open('/proc/self/status').read().splitlines() if ':\t' in line)
            print(json.dumps({'files': outcome, 'uid': os.getuid(), 'gid': os.getgid(),
                              'cap_eff': status['CapEff'].strip(), 'no_new_privs': status['NoNewPrivs'].strip()}))
            """);

        using var report = JsonDocument.Parse(result.Stdout);
        var root = report.RootElement;
        foreach (var file in root.GetProperty("files").EnumerateObject())
        {
            var writable = file.Name is "/workspace/ok.txt" or "/tmp/ok.txt";
            Assert.True(writable == (file.Value.ValueKind == JsonValueKind.String), $"{file.Name}: {file.Value}");
        }
        Assert.InRange(root.GetProperty("uid").GetInt32(), 1_000_000, 1_999_999);
        Assert.Equal(root.GetProperty("uid").GetInt32(), root.GetProperty("gid").GetInt32());
        Assert.Equal("0000000000000000", root.GetProperty("cap_eff").GetString());
        Assert.Equal("1", root.GetProperty("no_new_privs").GetString());
    }

    [DockerFact]
    public async Task Two_sessions_cannot_see_each_others_workspaces()
    {
        var alice = NewSession();
        var bob = NewSession();
        var marker = "alice-" + Guid.NewGuid().ToString("N");
        await RunOk(alice, $"open('{marker}.txt', 'w').write('private')");

        var result = await RunOk(bob, $$"""
            import os
            found = []
            for top in ['/workspace', '/tmp', '/var', '/run', '/mnt', '/home', '/opt', '/dev/shm', '/srv', '/media']:
                for folder, _, files in os.walk(top):
                    found += [os.path.join(folder, f) for f in files if '{{marker}}' in f]
            print(found)
            print('{{alice:N}}' in open('/proc/self/mountinfo').read())
            """);

        Assert.Equal("[]\nFalse\n", result.Stdout);
        Assert.DoesNotContain((await Fixture.Workspace.ListAsync(bob)).Select(f => f.Path), p => p.Contains(marker, StringComparison.Ordinal));
        Assert.Contains((await Fixture.Workspace.ListAsync(alice)).Select(f => f.Path), p => p == marker + ".txt");
    }

    [DockerFact]
    public async Task A_fork_bomb_hits_the_pids_limit_and_other_sessions_keep_working()
    {
        var bomber = NewSession();
        var neighbour = NewSession();
        await RunOk(bomber, "1");
        await RunOk(neighbour, "1");
        var container = Fixture.ContainerOf(bomber);

        var bomb = Run(bomber, """
            import os
            while True:
                try:
                    os.fork()
                except OSError:
                    pass
            """, TimeSpan.FromSeconds(8));
        long peak = 0;
        await Eventually.Until(async () =>
        {
            var stats = await Fixture.Containers.StatsAsync(container.ContainerId, CancellationToken.None);
            peak = Math.Max(peak, (long)(stats?.PidsStats?.Current ?? 0));
            return peak >= 120 || bomb.IsCompleted;
        }, TimeSpan.FromSeconds(30), "the fork bomb to reach the pids limit");
        var during = await RunOk(neighbour, "sum(range(10))");
        var bombed = await bomb;

        Assert.InRange(peak, 120, 128);
        Assert.Equal("45", during.Result);
        Assert.Equal(ExecutionStatus.Timeout, bombed.Status);
        Assert.Equal("2", (await RunOk(bomber, "1 + 1")).Result);
        Assert.Equal("2", (await RunOk(neighbour, "1 + 1")).Result);
    }

    [DockerFact]
    public async Task A_memory_bomb_gets_a_clear_error_and_a_fresh_kernel_that_works()
    {
        var session = NewSession();
        await RunOk(session, "before = 1");

        var bombed = await Run(session, """
            hoard = []
            while True:
                hoard.append(b'x' * 50_000_000)
            """);

        Assert.Equal(ExecutionStatus.Error, bombed.Status);
        Assert.Equal("KernelDied", bombed.Error!.Name);
        Assert.Contains("out of memory", bombed.Error.Value);
        Assert.True(bombed.KernelRestarted);
        Assert.Equal("NameError", (await Run(session, "before")).Error?.Name);
        Assert.Equal("2", (await RunOk(session, "1 + 1")).Result);
    }

    [DockerFact]
    public async Task Containers_are_created_locked_down()
    {
        var session = NewSession();
        await RunOk(session, "1");

        var inspected = await Fixture.Docker.Containers.InspectContainerAsync(Fixture.ContainerOf(session).ContainerId);

        var host = inspected.HostConfig!;
        Assert.True(host.ReadonlyRootfs);
        Assert.Equal("none", host.NetworkMode);
        // Docker reports ["ALL"]; Podman expands it to the capabilities it would otherwise grant.
        var dropped = host.CapDrop.Select(c => c.Replace("CAP_", "", StringComparison.Ordinal)).ToHashSet();
        Assert.True(dropped.Contains("ALL") || dropped.IsSupersetOf(["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID", "KILL", "NET_BIND_SERVICE"]), string.Join(",", dropped));
        Assert.Contains(host.SecurityOpt, o => o.StartsWith("no-new-privileges", StringComparison.Ordinal));
        Assert.Equal(512L * 1024 * 1024, host.Memory);
        Assert.Equal(host.Memory, host.MemorySwap);
        Assert.Equal(128, host.PidsLimit);
        var config = inspected.Config!;
        var uid = Fixture.ContainerOf(session).Volume.OwnerUid;
        Assert.InRange(uid, 1_000_000, 1_999_999);
        Assert.Equal($"{uid}:{uid}", config.User);
        Assert.Contains(host.SecurityOpt, o => o.StartsWith("seccomp", StringComparison.Ordinal));
        Assert.Equal("true", config.Labels["conclave.managed"]);
        Assert.Equal(Fixture.NodeId, config.Labels["conclave.node"]);
        Assert.DoesNotContain(config.Env, e => e.Contains(SandboxFixture.Secret, StringComparison.Ordinal));
    }
}
