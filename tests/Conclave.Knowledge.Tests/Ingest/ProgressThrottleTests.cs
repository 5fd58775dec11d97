using Conclave.Knowledge.Contracts;
using Conclave.Knowledge.Documents;

namespace Conclave.Knowledge.Tests.Ingest;

/// <summary>A session hears of every change of a document's state, and of embedding progress at most every 500 ms.</summary>
public sealed class ProgressThrottleTests
{
    private static readonly Guid Document = Guid.NewGuid();

    [Fact]
    public void Every_state_is_told_and_progress_within_embedding_at_most_every_interval()
    {
        var clock = new ManualClock();
        var throttle = new ProgressThrottle(clock);

        Assert.True(throttle.Admit(Change(DocumentState.Queued)));
        Assert.True(throttle.Admit(Change(DocumentState.Extracting)));
        Assert.True(throttle.Admit(Change(DocumentState.Embedding, 0)));
        clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.False(throttle.Admit(Change(DocumentState.Embedding, 4)));
        clock.Advance(TimeSpan.FromMilliseconds(300));
        Assert.False(throttle.Admit(Change(DocumentState.Embedding, 8)));
        clock.Advance(ProgressThrottle.Interval - TimeSpan.FromMilliseconds(400));
        Assert.True(throttle.Admit(Change(DocumentState.Embedding, 12)));
        Assert.False(throttle.Admit(Change(DocumentState.Embedding, 16)));
        Assert.True(throttle.Admit(Change(DocumentState.Ready, 20)));
    }

    [Fact]
    public void A_new_version_starts_over()
    {
        var clock = new ManualClock();
        var throttle = new ProgressThrottle(clock);

        Assert.True(throttle.Admit(Change(DocumentState.Embedding, 4)));
        Assert.True(throttle.Admit(Change(DocumentState.Embedding, 0, version: 2)));
        Assert.True(throttle.Admit(Change(DocumentState.Failed, 0, version: 2)));
        Assert.True(throttle.Admit(Change(DocumentState.Failed, 0, version: 2)));
    }

    private static DocumentStateChanged Change(DocumentState state, int embedded = 0, int version = 1) =>
        new(Document, Guid.NewGuid(), Guid.NewGuid(), "owner", "manual.pdf", version, state, embedded, 20, null);

    /// <summary>Time that moves only when told.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
