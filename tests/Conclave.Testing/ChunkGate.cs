using System.Diagnostics;

namespace Conclave.Testing;

/// <summary>
/// Holds back each chunk of a <see cref="Reply.Gated"/> reply until it is released, and records when
/// every released chunk went out, so a benchmark can time chunk emission to receipt exactly.
/// </summary>
public sealed class ChunkGate
{
    private readonly SemaphoreSlim _permits = new(0);
    private readonly Arrivals<long> _sent = new("Gated chunk");

    /// <summary>
    /// Raised after a chunk was flushed, with the <see cref="Stopwatch.GetTimestamp"/> taken just before
    /// it was written (so a client's receipt timestamp is never earlier). Runs on the server's thread.
    /// </summary>
    public event Action<long>? ChunkSent;

    /// <summary>Send timestamps (<see cref="Stopwatch.GetTimestamp"/>) of the chunks this gate let through.</summary>
    public IReadOnlyList<long> ChunkSentAt => _sent.Snapshot();

    /// <summary>Lets <paramref name="chunks"/> more chunks through, across every reply using this gate.</summary>
    public void Release(int chunks = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunks, 1);
        _permits.Release(chunks);
    }

    /// <summary>Waits until the chunk with this zero-based index has been flushed; returns its send timestamp.</summary>
    public Task<long> WaitForChunkSentAsync(int index, TimeSpan timeout) => _sent.WaitAsync(index, timeout);

    internal Task WaitAsync(CancellationToken cancellationToken) => _permits.WaitAsync(cancellationToken);

    internal void OnChunkSent(long timestamp)
    {
        _sent.Add(timestamp);
        ChunkSent?.Invoke(timestamp);
    }
}
