using System.Text.Json;
using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Tests.Fixtures;

namespace Conclave.Sandbox.Tests.Isolation;

/// <summary>
/// What code may not do to the kernel or to the bridge that serves the Host, tried from inside a real
/// sandbox: the seccomp profile (deploy/sandbox/seccomp.json), the bridge's non-dumpable state, the
/// workspace's mount options and per-sandbox uids.
/// </summary>
public sealed class KernelSurfaceTests(SandboxFixture fixture) : SandboxTest(fixture)
{
    [DockerFact]
    public async Task Namespaces_ptrace_process_memory_and_the_keyring_are_refused()
    {
        var session = NewSession();

        var result = await RunOk(session, """
            import ctypes, json, os, subprocess
            libc = ctypes.CDLL(None, use_errno=True)
            def call(f):
                ctypes.set_errno(0)
                r = f()
                return 'allowed' if r >= 0 else 'errno %d' % ctypes.get_errno()
            def opening(path, mode):
                try:
                    with open(path, mode):
                        return 'allowed'
                except OSError as e:
                    return 'errno %d' % e.errno
            fds = os.listdir('/proc/self/fd')
            report = {
                'unshare(NEWUSER)': call(lambda: libc.unshare(0x10000000)),
                'unshare(NEWNS)': call(lambda: libc.unshare(0x00020000)),
                'unshare -U': subprocess.run(['unshare', '-U', 'true'], capture_output=True).returncode,
                'unshare -Urn': subprocess.run(['unshare', '-Urn', 'true'], capture_output=True).returncode,
                'ptrace(SEIZE, 1)': call(lambda: libc.ptrace(0x4206, 1, 0, 0)),
                'keyctl': call(lambda: libc.syscall(250, 0, 0, 0, 0)),
                'add_key': call(lambda: libc.syscall(248, b'user', b'k', b'v', 1, -2)),
                'bpf': call(lambda: libc.syscall(321, 0, 0, 0)),
                'perf_event_open': call(lambda: libc.syscall(298, 0, 0, -1, -1, 0)),
                'io_uring_setup': call(lambda: libc.syscall(425, 1, 0)),
                'userfaultfd': call(lambda: libc.syscall(323, 0)),
                'mount': call(lambda: libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)),
                'setns': call(lambda: libc.setns(0, 0)),
                'process_vm_readv': call(lambda: libc.syscall(310, 1, 0, 0, 0, 0, 0)),
                '/proc/1/mem write': opening('/proc/1/mem', 'wb'),
                '/proc/1/mem read': opening('/proc/1/mem', 'rb'),
                '/proc/1/fd/0 write': opening('/proc/1/fd/0', 'wb'),
                '/proc/1/fd/1 write': opening('/proc/1/fd/1', 'wb'),
                '/proc/1/fd/2 write': opening('/proc/1/fd/2', 'wb'),
                'fork': subprocess.run(['true']).returncode,
            }
            print(json.dumps(report))
            """);

        using var report = JsonDocument.Parse(result.Stdout);
        foreach (var check in report.RootElement.EnumerateObject())
        {
            if (check.Name == "fork")
            {
                Assert.Equal(0, check.Value.GetInt32()); // processes and threads still work
            }
            else if (check.Value.ValueKind == JsonValueKind.Number)
            {
                Assert.True(check.Value.GetInt32() != 0, $"{check.Name} succeeded");
            }
            else
            {
                Assert.True(check.Value.GetString() != "allowed", $"{check.Name} was allowed");
            }
        }
    }

    [DockerFact]
    public async Task The_workspace_is_mounted_noexec_nosuid_nodev()
    {
        var session = NewSession();

        var result = await RunOk(session, """
            import os, subprocess
            with open('run.sh', 'w') as f:
                f.write('#!/bin/sh\necho ran\n')
            os.chmod('run.sh', 0o755)
            try:
                print(subprocess.run(['./run.sh'], capture_output=True, text=True).stdout.strip())
            except PermissionError:
                print('refused')
            print(subprocess.run(['python3', '-c', 'print(\'python still runs scripts\')'], capture_output=True, text=True).stdout.strip())
            options = [line.split()[5] for line in open('/proc/self/mountinfo') if line.split()[4] == '/workspace'][0]
            print(options)
            """);

        var lines = result.Stdout.Trim().Split('\n');
        Assert.Equal("refused", lines[0]);
        Assert.Equal("python still runs scripts", lines[1]);
        Assert.Contains("noexec", lines[2], StringComparison.Ordinal);
        Assert.Contains("nosuid", lines[2], StringComparison.Ordinal);
        Assert.Contains("nodev", lines[2], StringComparison.Ordinal);
    }

    [DockerFact]
    public async Task Exhausting_processes_in_one_sandbox_does_not_stop_another_from_starting_one()
    {
        var greedy = NewSession();
        var other = NewSession();
        await RunOk(other, "1");

        var exhausted = await Run(greedy, """
            import os, resource, time
            soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
            children = []
            try:
                while True:
                    pid = os.fork()
                    if pid == 0:
                        time.sleep(60)
                        os._exit(0)
                    children.append(pid)
            except OSError as e:
                print('stopped after', len(children), 'with', e.errno)
            """, TimeSpan.FromSeconds(20));
        var meanwhile = await RunOk(other, "import subprocess\nsubprocess.run(['true']).returncode");

        Assert.Contains("stopped after", exhausted.Stdout, StringComparison.Ordinal);
        Assert.Equal("0", meanwhile.Result);
        Assert.NotEqual(Fixture.ContainerOf(greedy).Volume.OwnerUid, Fixture.ContainerOf(other).Volume.OwnerUid);
    }

    [DockerFact]
    public async Task The_limits_of_every_container_are_verified_from_inside()
    {
        var session = NewSession();
        await RunOk(session, "1");

        var status = Fixture.Status.Current;

        Assert.Equal(SandboxLimitsState.Enforced, status.State);
        Assert.Empty(status.Missing);
        Assert.Equal(WorkspaceIsolation.FileSystemPerSession, status.Isolation);
        Assert.NotNull(status.CheckedAt);
    }
}
