namespace Conclave.Bench.Spine;

/// <summary>Counts subscribers down to zero, awaitably.</summary>
internal sealed class Countdown(int count)
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _remaining = count;

    public void Signal()
    {
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _done.TrySetResult();
        }
    }

    /// <summary>Until every subscriber has signalled; a subscriber that failed (e.g. was refused) ends the wait at once.</summary>
    public async Task WaitAsync(Task failed, string what)
    {
        Task first;
        try
        {
            first = await Task.WhenAny(_done.Task, failed).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"Not {what} within 10 s.", e);
        }

        await first;
    }
}
