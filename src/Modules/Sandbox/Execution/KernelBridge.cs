using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Conclave.Sandbox.Containers;
using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Telemetry;
using Docker.DotNet;
using Microsoft.Extensions.Logging;

namespace Conclave.Sandbox.Execution;

/// <summary>
/// The Host's end of kernel_bridge.py: requests go to the container's stdin as JSON lines, responses
/// come back on its stdout and are matched to their request by id, so pings and interrupts can
/// overtake a running execution. One per container.
/// </summary>
internal sealed class KernelBridge : IAsyncDisposable
{
    /// <summary>
    /// The bridge bounds every text it sends (max_output_bytes each, escaped at most 6-fold), so a longer
    /// line means a broken or hostile bridge: the conversation ends rather than the Host's memory growing.
    /// </summary>
    private const int MaxLineBytes = 16 * 1024 * 1024;

    /// <summary>Stderr (diagnostics, and whatever code writes to fd 2) is logged line by line, each cut here.</summary>
    private const int MaxStderrLineBytes = 2048;

    private readonly MultiplexedStream _stream;
    private readonly string _containerName;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<BridgeResponse>> _pending = new();
    private readonly TaskCompletionSource<BridgeResponse> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<BridgeResponse> _hello = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _reading;
    private long _lastId;
    private volatile bool _closed;

    public KernelBridge(MultiplexedStream stream, string containerName, ILogger logger)
    {
        _stream = stream;
        _containerName = containerName;
        _logger = logger;
        _reading = Task.Run(ReadAsync);
    }

    /// <summary>True once the container's output ended: the bridge (and so the container) is gone.</summary>
    public bool IsClosed => _closed;

    /// <summary>The limits the bridge found in force, reported before its kernel (or any user code) starts.</summary>
    public async Task<LimitsReport> WaitHelloAsync(CancellationToken ct)
    {
        var message = await _hello.Task.WaitAsync(ct);
        return message.Limits ?? throw new SandboxUnavailableException($"The sandbox {_containerName} did not report its limits: {message.Error?.Value}");
    }

    /// <summary>Completes when the bridge reported that its kernel is up.</summary>
    public async Task<BridgeResponse> WaitReadyAsync(CancellationToken ct)
    {
        var message = await _ready.Task.WaitAsync(ct);
        if (message.Ready != true)
        {
            // The bridge's own words for why (e.g. the kernel's start error), as an object since protocol 2.
            throw new SandboxUnavailableException($"The sandbox kernel did not start in {_containerName}: {message.Error?.Value}");
        }
        return message;
    }

    /// <summary>
    /// Sends one request. The returned task completes with the bridge's answer, or fails with
    /// <see cref="SandboxUnavailableException"/> if the container goes away first; <paramref name="ct"/>
    /// only stops the sending.
    /// </summary>
    public async Task<Task<BridgeResponse>> SendAsync(BridgeRequest request, CancellationToken ct)
    {
        var answer = new TaskCompletionSource<BridgeResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[request.Id] = answer;
        if (IsClosed)
        {
            FailPending();
        }
        var _line = BridgeJson.Serialize(request);
        await _writeGate.WaitAsync(ct);
        try
        {
            await _stream.WriteAsync(_line, 0, _line.Length, ct);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            _pending.TryRemove(request.Id, out _);
            throw new SandboxUnavailableException($"The sandbox {_containerName} is gone.", e);
        }
        finally
        {
            _writeGate.Release();
        }
        return answer.Task;
    }

    public string NextId() => Interlocked.Increment(ref _lastId).ToString(CultureInfo.InvariantCulture);

    public async Task<BridgeResponse> RequestAsync(string op, CancellationToken ct, string? target = null)
    {
        var answer = await SendAsync(new BridgeRequest(NextId(), op, Target: target), ct);
        return await answer.WaitAsync(ct);
    }

    private async Task ReadAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        var stdout = new ArrayBufferWriter<byte>();
        var stderr = new StderrLines(this);
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                var read = await _stream.ReadOutputAsync(buffer, 0, buffer.Length, _stopping.Token);
                if (read.EOF)
                {
                    break;
                }
                var chunk = buffer.AsSpan(0, read.Count);
                if (read.Target == MultiplexedStream.TargetStream.StandardOut)
                {
                    TakeLines(stdout, chunk, HandleLine);
                }
                else
                {
                    stderr.Take(chunk);
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The container went away or we are disposing: both end the conversation.
        }
        catch (Exception e)
        {
            Log.BridgeReadFailed(_logger, e, _containerName);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _closed = true;
            var exited = new BridgeResponse { Ready = false, Error = new BridgeError("Closed", "the container exited", null) };
            _hello.TrySetResult(exited);
            _ready.TrySetResult(exited);
            FailPending();
        }
    }

    private delegate void LineHandler(ReadOnlySpan<byte> _line);

    private void TakeLines(ArrayBufferWriter<byte> partial, ReadOnlySpan<byte> chunk, LineHandler handle)
    {
        while (!chunk.IsEmpty)
        {
            var end = chunk.IndexOf((byte)'\n');
            if (end < 0)
            {
                if (partial.WrittenCount + chunk.Length > MaxLineBytes)
                {
                    throw new InvalidDataException($"A line from the sandbox {_containerName} exceeded {MaxLineBytes} bytes.");
                }
                partial.Write(chunk);
                return;
            }
            if (partial.WrittenCount == 0)
            {
                handle(chunk[..end]);
            }
            else
            {
                partial.Write(chunk[..end]);
                handle(partial.WrittenSpan);
                partial.ResetWrittenCount();
            }
            chunk = chunk[(end + 1)..];
        }
    }

    private void HandleLine(ReadOnlySpan<byte> line)
    {
        if (line.Trim((byte)' ').IsEmpty)
        {
            return;
        }
        BridgeResponse? message;
        try
        {
            message = BridgeJson.Parse(line);
        }
        catch (System.Text.Json.JsonException e)
        {
            Log.BridgeSentGarbage(_logger, e, _containerName);
            return;
        }
        if (message is null)
        {
            return;
        }
        if (message.Hello is not null)
        {
            _hello.TrySetResult(message);
        }
        else if (message.Ready is not null)
        {
            _ready.TrySetResult(message);
        }
        else if (message.Id is not null && _pending.TryRemove(message.Id, out var answer))
        {
            answer.TrySetResult(message);
        }
    }

    /// <summary>Stderr cut into lines of at most <see cref="MaxStderrLineBytes"/>; the rest of a longer line is dropped unread into memory.</summary>
    private sealed class StderrLines(KernelBridge bridge)
    {
        private readonly byte[] _line = new byte[MaxStderrLineBytes];
        private int _length;

        public void Take(ReadOnlySpan<byte> chunk)
        {
            while (!chunk.IsEmpty)
            {
                var end = chunk.IndexOf((byte)'\n');
                var part = end < 0 ? chunk : chunk[..end];
                var room = _line.Length - _length;
                part[..Math.Min(room, part.Length)].CopyTo(_line.AsSpan(_length));
                _length += Math.Min(room, part.Length);
                if (end < 0)
                {
                    return;
                }
                if (bridge._logger.IsEnabled(LogLevel.Debug))
                {
                    Log.BridgeStderr(bridge._logger, bridge._containerName, Encoding.UTF8.GetString(_line, 0, _length));
                }
                _length = 0;
                chunk = chunk[(end + 1)..];
            }
        }
    }

    private void FailPending()
    {
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var answer))
            {
                answer.TrySetException(new SandboxUnavailableException($"The sandbox {_containerName} stopped while it was being used."));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _stream.Dispose();
        try
        {
            await _reading;
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
        }
        FailPending();
        _stopping.Dispose();
        _writeGate.Dispose();
    }
}
