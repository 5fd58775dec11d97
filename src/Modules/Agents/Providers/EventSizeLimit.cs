using System.Globalization;

namespace Conclave.Agents.Providers;

/// <summary>
/// Caps each line of a provider's response body (one server-sent event of a stream, or a whole JSON
/// body). The SDK reads a line whole before we see any of it, so without this a provider could make
/// the Host hold a 16 MiB answer sent as one event before the answer cap could cut it.
/// </summary>
internal sealed class EventSizeLimit(int maxLineBytes) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        var original = response.Content;
        var bounded = new StreamContent(new LineBoundedStream(await original.ReadAsStreamAsync(cancellationToken), original, maxLineBytes));
        foreach (var header in original.Headers)
        {
            bounded.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        response.Content = bounded;
        return response;
    }

    private sealed class LineBoundedStream(Stream inner, HttpContent owner, int maxLineBytes) : Stream
    {
        private long _lineBytes;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer) => Count(buffer[..inner.Read(buffer)]);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            return Count(buffer.Span[..read]);
        }

        /// <summary>Counts the bytes of the line in progress across reads; a line over the cap ends the response.</summary>
        private int Count(ReadOnlySpan<byte> read)
        {
            for (var rest = read; ;)
            {
                var lineEnd = rest.IndexOf((byte)'\n');
                _lineBytes += lineEnd < 0 ? rest.Length : lineEnd;
                if (_lineBytes > maxLineBytes)
                {
                    throw new OversizedEventException(maxLineBytes);
                }

                if (lineEnd < 0)
                {
                    return read.Length;
                }

                _lineBytes = 0;
                rest = rest[(lineEnd + 1)..];
            }
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                owner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

/// <summary>A provider sent one line (event) larger than the Host buffers; the call is abandoned.</summary>
internal sealed class OversizedEventException(int maxLineBytes)
    : IOException(string.Create(CultureInfo.InvariantCulture, $"a single streamed event larger than {maxLineBytes:N0} bytes, more than the Host buffers."));
