using System.Diagnostics;

namespace Conclave.Testing;

/// <summary>
/// Polls a condition until it holds or a deadline passes. Only for conditions nothing signals:
/// when there is an event, task or tracked activity to await, await that instead.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan LongestPause = TimeSpan.FromMilliseconds(200);

    public static Task Until(Func<bool> condition, TimeSpan timeout, string because) =>
        Until(() => Task.FromResult(condition()), timeout, because);

    public static async Task Until(Func<Task<bool>> condition, TimeSpan timeout, string because)
    {
        var started = Stopwatch.GetTimestamp();
        var pause = FirstPause;
        while (!await condition())
        {
            var left = timeout - Stopwatch.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"Not true within {timeout.TotalSeconds:0.###} s: {because}");
            }

            await Task.Delay(pause < left ? pause : left);
            // Backs off so a slow condition (a query, a page) does not hammer what it observes.
            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, LongestPause.Ticks));
        }
    }
}
