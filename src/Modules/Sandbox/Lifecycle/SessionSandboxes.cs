using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Conclave.Sandbox.Containers;
using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Execution;
using Conclave.Sandbox.Telemetry;
using Conclave.Sandbox.Workspaces;
using Docker.DotNet;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Sandbox.Lifecycle;

/// <summary>
/// One container per session, created on first use (from the warm pool when it has one), reaped when
/// idle, recreated on the next use with the same files.
/// </summary>
internal sealed class SessionSandboxes(
    SandboxContainers containers,
    WarmPool pool,
    WorkspaceVolumes volumes,
    SandboxMetrics metrics,
    IOptions<SandboxOptions> options,
    TimeProvider time,
    ILogger<SessionSandboxes> logger) : ISandbox, ISandboxProcesses, IAsyncDisposable
{
    private const int MaxCommandParts = 64;
    private const int MaxCommandChars = 8192;

    /// <summary>What the bridge may take beyond the time limit: interrupt grace plus a kernel restart.</summary>
    private static readonly TimeSpan BridgeSlack = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CancelGrace = TimeSpan.FromSeconds(15);

    private readonly ConcurrentDictionary<Guid, SessionSlot> _sessions = new();

    private sealed class SessionSlot
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public SandboxContainer? Container;
    }

    /// <summary>Sessions that currently have a container (for the janitor and tests).</summary>
    public IEnumerable<(Guid SessionId, SandboxContainer Container)> Active =>
        _sessions.Select(s => (s.Key, Volatile.Read(ref s.Value.Container)))
            .Where(s => s.Item2 is not null)
            .Select(s => (s.Key, s.Item2!));

    public async Task<ExecutionResult> ExecuteAsync(Guid sessionId, string code, TimeSpan? timeout, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        if (Encoding.UTF8.GetByteCount(code) > options.Value.MaxCodeBytes)
        {
            throw new ArgumentException($"The code is larger than {options.Value.MaxCodeBytes} bytes.", nameof(code));
        }
        var limit = timeout is { } t && t > TimeSpan.Zero && t < options.Value.ExecutionTimeout ? t : options.Value.ExecutionTimeout;
        var slot = _sessions.GetOrAdd(sessionId, _ => new SessionSlot());
        await slot.Gate.WaitAsync(ct);
        try
        {
            var container = await EnsureContainerAsync(sessionId, slot, ct);
            return await RunAsync(sessionId, slot, container, code, limit, ct);
        }
        finally
        {
            slot.Gate.Release();
        }
    }

    public async Task<ISandboxProcess> StartAsync(Guid sessionId, IReadOnlyList<string> command, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.Count is 0 or > MaxCommandParts || string.IsNullOrWhiteSpace(command[0])
            || command.Sum(c => c?.Length ?? 0) > MaxCommandChars || command.Any(c => c is null || c.Contains('\0')))
        {
            throw new ArgumentException($"A command is a program and its arguments: 1-{MaxCommandParts} parts, {MaxCommandChars} characters in all, no NUL.", nameof(command));
        }

        var slot = _sessions.GetOrAdd(sessionId, _ => new SessionSlot());
        await slot.Gate.WaitAsync(ct);
        try
        {
            var container = await EnsureContainerAsync(sessionId, slot, ct);
            MultiplexedStream stream;
            try
            {
                stream = await containers.ExecAsync(container, command, ct);
            }
            catch (Exception e) when (e is DockerApiException or IOException or HttpRequestException)
            {
                throw new SandboxUnavailableException($"The program '{command[0]}' could not start in the sandbox: {e.Message}", e);
            }

            container.Touch(time.GetUtcNow());
            logger.LogInformation("Started {Program} in {Container} for session {SessionId}", command[0], container.Name, sessionId);
            return new SandboxProcess(stream, container, command[0], time, logger);
        }
        finally
        {
            slot.Gate.Release();
        }
    }

    public async Task ResetAsync(Guid sessionId, CancellationToken ct = default)
    {
        if (!_sessions.TryGetValue(sessionId, out var slot))
        {
            return;
        }
        await slot.Gate.WaitAsync(ct);
        try
        {
            if (slot.Container is { IsAlive: true } container)
            {
                await container.Bridge.RequestAsync("reset", ct).WaitAsync(options.Value.StartTimeout, ct);
            }
        }
        finally
        {
            slot.Gate.Release();
        }
    }

    /// <summary>Does not wait for a running execution: removing the container ends it (it returns an error).</summary>
    public async Task StopAsync(Guid sessionId, CancellationToken ct = default)
    {
        if (_sessions.TryGetValue(sessionId, out var slot) && Interlocked.Exchange(ref slot.Container, null) is { } container)
        {
            await containers.RemoveAsync(container);
            Log.ContainerReaped(logger, container.Name, sessionId, "stopped");
        }
    }

    public async Task RemoveSessionAsync(Guid sessionId, CancellationToken ct = default)
    {
        await StopAsync(sessionId, ct);
        if (_sessions.TryRemove(sessionId, out var slot))
        {
            // A container an execution was still starting is removed with it.
            await slot.Gate.WaitAsync(ct);
            if (Interlocked.Exchange(ref slot.Container, null) is { } late)
            {
                await containers.RemoveAsync(late);
            }
            slot.Gate.Release();
        }
        await volumes.RemoveSessionAsync(sessionId, ct);
        Log.SessionRemoved(logger, sessionId);
    }

    /// <summary>Removes containers unused for <paramref name="idleFor"/> (or whose container exited); their files stay.</summary>
    public async Task<int> ReapIdleAsync(TimeSpan idleFor)
    {
        var cutoff = time.GetUtcNow() - idleFor;
        var reaped = 0;
        foreach (var (sessionId, slot) in _sessions)
        {
            var container = Volatile.Read(ref slot.Container);
            var dead = container is { IsAlive: false };
            if (container is null || (!dead && container.LastUsed >= cutoff && idleFor > TimeSpan.Zero) || !slot.Gate.Wait(0))
            {
                continue;
            }
            try
            {
                if (Interlocked.CompareExchange(ref slot.Container, null, container) == container)
                {
                    await containers.RemoveAsync(container);
                    metrics.ContainerReaped(dead ? "dead" : "idle");
                    Log.ContainerReaped(logger, container.Name, sessionId, dead ? "its container had exited" : "idle");
                    reaped++;
                }
            }
            finally
            {
                slot.Gate.Release();
            }
        }
        return reaped;
    }

    private async Task<SandboxContainer> EnsureContainerAsync(Guid sessionId, SessionSlot slot, CancellationToken ct)
    {
        if (slot.Container is { } current)
        {
            if (current.IsAlive)
            {
                return current;
            }
            Interlocked.CompareExchange(ref slot.Container, null, current);
            await containers.RemoveAsync(current);
            metrics.ContainerReaped("dead");
            Log.ContainerReaped(logger, current.Name, sessionId, "its container had exited");
        }

        var clock = Stopwatch.StartNew();
        SandboxContainer? container = null;
        if (pool.TryTake() is { } warm)
        {
            // A warm container's volume becomes the session's, unless the session already has files:
            // then its own volume must be mounted, which takes a container of its own.
            bool claimed;
            try
            {
                claimed = await volumes.TryClaimAsync(warm.Volume, sessionId, ct);
            }
            catch
            {
                await containers.RemoveAsync(warm);
                await volumes.DestroyAsync(warm.Volume);
                throw;
            }
            if (claimed)
            {
                warm.SessionId = sessionId;
                _ = containers.NameAfterSessionAsync(warm, sessionId);
                container = warm;
                metrics.ContainerStarted("claimed");
                Log.ContainerStarted(logger, warm.Name, sessionId, "claimed from the warm pool", clock.ElapsedMilliseconds);
            }
            else
            {
                pool.Return(warm);
            }
        }
        if (container is null)
        {
            if (containers.OwnedCount >= options.Value.MaxContainers)
            {
                throw new SandboxUnavailableException($"This node already runs {options.Value.MaxContainers} sandboxes; try again when one is free.");
            }
            try
            {
                var volume = await volumes.EnsureAsync(sessionId, ct);
                container = await containers.StartAsync(Guid.NewGuid(), volume, sessionId, ct);
            }
            catch (Exception) when (!ct.IsCancellationRequested)
            {
                metrics.ContainerStartFailed("cold");
                throw;
            }

            metrics.ContainerStarted("cold");
        }
        container.Touch(time.GetUtcNow());
        Volatile.Write(ref slot.Container, container);
        return container;
    }

    private async Task<ExecutionResult> RunAsync(Guid sessionId, SessionSlot slot, SandboxContainer container, string code, TimeSpan limit, CancellationToken ct)
    {
        using var activity = SandboxTracing.Source.StartActivity("conclave.sandbox.execute");
        activity?.SetTag("conclave.session.id", sessionId.ToString());
        var clock = Stopwatch.StartNew();
        Log.ExecutionStarted(logger, sessionId);
        var bridge = container.Bridge;
        var request = new BridgeRequest(bridge.NextId(), "execute", code, limit.TotalSeconds, options.Value.MaxOutputBytes);
        ExecutionResult result;
        try
        {
            var answer = await bridge.SendAsync(request, ct);
            BridgeResponse response;
            try
            {
                response = await answer.WaitAsync(limit + BridgeSlack, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await CancelAsync(sessionId, slot, container, request.Id, answer);
                container.Touch(time.GetUtcNow());
                metrics.ExecutionFinished("cancelled", clock.Elapsed.TotalMilliseconds);
                throw;
            }
            result = ToResult(response, clock.Elapsed);
        }
        catch (TimeoutException)
        {
            // The bridge itself stopped answering: the container goes, the next execution gets a new one.
            await Discard(sessionId, slot, container, "the kernel bridge stopped answering");
            result = Failed(ExecutionStatus.Timeout, "Timeout", $"execution exceeded its time limit of {limit.TotalSeconds:0.#}s and the sandbox did not recover; a fresh sandbox will be started, variables were lost", clock.Elapsed);
        }
        catch (SandboxUnavailableException) when (!container.IsAlive)
        {
            // The container went away mid-execution: stopped by the user, or its memory limit killed the bridge too.
            await Discard(sessionId, slot, container, "the container exited during an execution");
            result = Failed(ExecutionStatus.Error, "SandboxExited", "the sandbox stopped during the execution (it was stopped, or ran out of memory); a fresh sandbox will be started, variables were lost", clock.Elapsed);
        }

        result = NoteFullWorkspace(container, result);
        container.Touch(time.GetUtcNow());
        if (result.Status == ExecutionStatus.Timeout || result.KernelRestarted)
        {
            Log.ExecutionKilled(logger, sessionId, result.Error is { } e ? $"{e.Name}: {e.Value}" : "kernel restarted");
        }
        var status = result.Status.ToString().ToLowerInvariant();
        activity?.SetTag("conclave.sandbox.status", status);
        metrics.ExecutionFinished(status, clock.Elapsed.TotalMilliseconds);
        Log.ExecutionFinished(logger, sessionId, status, clock.ElapsedMilliseconds);
        return result;
    }

    /// <summary>Interrupts the running code and waits (bounded) until the bridge confirms, so nothing it started outlives the call.</summary>
    private async Task CancelAsync(Guid sessionId, SessionSlot slot, SandboxContainer container, string executionId, Task<BridgeResponse> answer)
    {
        Log.ExecutionKilled(logger, sessionId, "cancelled");
        try
        {
            using var grace = new CancellationTokenSource(CancelGrace);
            await container.Bridge.RequestAsync("interrupt", grace.Token, target: executionId);
            await answer.WaitAsync(grace.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException or SandboxUnavailableException)
        {
            await Discard(sessionId, slot, container, "it did not stop after a cancellation");
        }
    }

    private async Task Discard(Guid sessionId, SessionSlot slot, SandboxContainer container, string reason)
    {
        Interlocked.CompareExchange(ref slot.Container, null, container);
        await containers.RemoveAsync(container);
        metrics.ContainerReaped("dead");
        Log.ContainerReaped(logger, container.Name, sessionId, reason);
    }

    /// <summary>
    /// The kernel stops code at the workspace's quota (the file system ends there); when it did, the result
    /// says so in words, as the agent may only have seen "No space left on device". Nothing is deleted.
    /// </summary>
    private ExecutionResult NoteFullWorkspace(SandboxContainer container, ExecutionResult result)
    {
        WorkspaceUsage usage;
        try
        {
            usage = volumes.Usage(container.Volume);
        }
        catch (Exception failure) when (failure is IOException or SandboxUnavailableException)
        {
            return result;
        }
        var bytesFull = usage.UsedBytes >= usage.QuotaBytes;
        var entriesFull = usage.UsedEntries >= usage.QuotaEntries;
        if (!bytesFull && !entriesFull)
        {
            return result;
        }
        var what = bytesFull
            ? $"its {usage.QuotaBytes} bytes are used up ({usage.UsedBytes} in use)"
            : $"its {usage.QuotaEntries} files and folders are used up";
        var message = $"the workspace is full: {what}. Writes fail with 'No space left on device' until files are deleted; earlier files are kept";
        return result with
        {
            Status = ExecutionStatus.Error,
            Error = new ExecutionError("QuotaExceeded", message, result.Error is { } e ? $"{e.Name}: {e.Value}\n{e.Traceback}" : ""),
        };
    }

    private static ExecutionResult ToResult(BridgeResponse response, TimeSpan elapsed)
    {
        var status = response.Status switch
        {
            "ok" => ExecutionStatus.Ok,
            "timeout" => ExecutionStatus.Timeout,
            _ => ExecutionStatus.Error,
        };
        var images = response.Display?
            .Where(d => d.Path is not null && d.Mime.StartsWith("image/", StringComparison.Ordinal))
            .Select(d => d.Path!)
            .ToList() ?? [];
        var error = response.Error is { } e ? new ExecutionError(e.Name ?? "", e.Value ?? "", e.Traceback ?? "") : null;
        return new ExecutionResult(status, response.Stdout ?? "", response.Stderr ?? "", response.Result, response.Html,
            images, error, elapsed, response.Truncated, response.KernelRestarted);
    }

    private static ExecutionResult Failed(ExecutionStatus status, string name, string message, TimeSpan elapsed) =>
        new(status, "", "", null, null, [], new ExecutionError(name, message, ""), elapsed, false, true);

    public async ValueTask DisposeAsync()
    {
        var all = _sessions.Values
            .Select(s => Interlocked.Exchange(ref s.Container, null))
            .OfType<SandboxContainer>()
            .Select(containers.RemoveAsync);
        await Task.WhenAll(all);
    }
}
