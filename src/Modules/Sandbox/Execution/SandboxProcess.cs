using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Conclave.Sandbox.Containers;
using Conclave.Sandbox.Contracts;
using Docker.DotNet;
using Microsoft.Extensions.Logging;

namespace Conclave.Sandbox.Execution;

/// <summary>
/// A program exec'd in a sandbox container, as two plain streams: writes go to its stdin (and count as use of the
/// container, so the idle reaper leaves it), its stdout comes through a bounded pipe, and its stderr is logged a
/// line at a time, each line cut, so a hostile program cannot grow the Host's memory through either.
/// </summary>
internal sealed class SandboxProcess : ISandboxProcess
{
    /// <summary>Unread stdout beyond this makes the pump wait for the reader (back-pressure, not buffering).</summary>
    private const long MaxUnreadBytes = 4 * 1024 * 1024;

    private const int MaxStderrLine = 2048;

    private readonly MultiplexedStream _stream;
    private readonly SandboxContainer _container;
    private readonly ILogger _logger;
    private readonly Pipe _stdout = new(new PipeOptions(pauseWriterThreshold: MaxUnreadBytes, resumeWriterThreshold: MaxUnreadBytes / 2));
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _pump;

    public SandboxProcess(MultiplexedStream stream, SandboxContainer container, string program, TimeProvider clock, ILogger logger)
    {
        _stream = stream;
        _container = container;
        _logger = logger;
        Input = new StdinStream(this, clock);
        Output = _stdout.Reader.AsStream();
        _pump = Task.Run(() => PumpAsync(program));
    }

    public Stream Input { get; }

    public Stream Output { get; }

    private async Task PumpAsync(string program)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        var stderr = new StringBuilder();
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                var read = await _stream.ReadOutputAsync(buffer, 0, buffer.Length, _stopping.Token);
                if (read.EOF)
                {
                    break;
                }

                if (read.Target == MultiplexedStream.TargetStream.StandardOut)
                {
                    var flushed = await _stdout.Writer.WriteAsync(buffer.AsMemory(0, read.Count), _stopping.Token);
                    if (flushed.IsCompleted)
                    {
                        break;
                    }
                }
                else
                {
                    foreach (var c in Encoding.UTF8.GetString(buffer, 0, read.Count))
                    {
                        if (c == '\n')
                        {
                            _logger.LogInformation("Sandbox process {Program} in {Container}: {Line}", program, _container.Name, stderr.ToString());
                            stderr.Clear();
                        }
                        else if (stderr.Length < MaxStderrLine)
                        {
                            stderr.Append(char.IsControl(c) ? '?' : c);
                        }
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The program or its container ended, or we are disposing.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            await _stdout.Writer.CompleteAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _stream.CloseWrite();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // Already gone.
        }

        await _stopping.CancelAsync();
        await _pump;
        _stream.Dispose();
        _stopping.Dispose();
    }

    /// <summary>The program's stdin: write-only, each write a use of the container.</summary>
    private sealed class StdinStream(SandboxProcess process, TimeProvider clock) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override async Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            process._container.Touch(clock.GetUtcNow());
            await process._stream.WriteAsync(buffer, offset, count, cancellationToken);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var array = buffer.ToArray();
            await WriteAsync(array, 0, array.Length, cancellationToken);
        }
    }
}
