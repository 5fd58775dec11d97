using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Conclave.Bench.Spine;

/// <summary>
/// The floor under cross-node delivery: one NOTIFY on one connection until a second connection that
/// LISTENs hears it, on the same PostgreSQL, timed during the cross-node figure's pauses so both meet
/// the same machine. Its own channel, so the nodes never see it.
/// </summary>
internal sealed class BareNotify : IAsyncDisposable
{
    private const string Channel = "bench_bare_notify";
    private readonly NpgsqlConnection _listener;
    private readonly NpgsqlConnection _sender;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _listening;
    private TaskCompletionSource<long> _heard = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private BareNotify(NpgsqlConnection listener, NpgsqlConnection sender)
    {
        _listener = listener;
        _sender = sender;
        _listener.Notification += (_, _) => _heard.TrySetResult(Stopwatch.GetTimestamp());
        _listening = ListenAsync();
    }

    public static async Task<BareNotify> CreateAsync(string connectionString)
    {
        var listener = new NpgsqlConnection(connectionString);
        await listener.OpenAsync();
        await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", listener))
        {
            await listen.ExecuteNonQueryAsync();
        }

        var sender = new NpgsqlConnection(connectionString);
        await sender.OpenAsync();
        return new BareNotify(listener, sender);
    }

    /// <summary>Milliseconds from sending a NOTIFY (autocommit) to the listener hearing it.</summary>
    public async Task<double> RoundTripAsync(int n)
    {
        var heard = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _heard, heard);
        var sent = Stopwatch.GetTimestamp();
        await using var notify = new NpgsqlCommand($"NOTIFY {Channel}, '{n.ToString(CultureInfo.InvariantCulture)}'", _sender);
        await notify.ExecuteNonQueryAsync();
        var at = await heard.Task.WaitAsync(TimeSpan.FromSeconds(10));
        return Stopwatch.GetElapsedTime(sent, at).TotalMilliseconds;
    }

    private async Task ListenAsync()
    {
        try
        {
            while (true)
            {
                await _listener.WaitAsync(_stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _listening;
        await _listener.DisposeAsync();
        await _sender.DisposeAsync();
        _stop.Dispose();
    }
}
