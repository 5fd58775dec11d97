namespace Conclave.Testing;

/// <summary>
/// An append-only, thread-safe list whose items can be awaited by index before they arrive,
/// so tests wait on the event itself instead of polling or sleeping.
/// </summary>
internal sealed class Arrivals<T>
{
    private readonly List<T> _items = [];
    private readonly Dictionary<int, TaskCompletionSource<T>> _waiters = [];
    private readonly Lock _lock = new();
    private readonly string _what;

    public Arrivals(string what) => _what = what;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _items.Count;
            }
        }
    }

    public IReadOnlyList<T> Snapshot()
    {
        lock (_lock)
        {
            return _items.ToArray();
        }
    }

    public void Add(T item) => Add(_ => item);

    /// <summary>Adds the item made from its index, so index and position agree under concurrency.</summary>
    public T Add(Func<int, T> create)
    {
        T item;
        TaskCompletionSource<T>? waiter;
        lock (_lock)
        {
            item = create(_items.Count);
            _waiters.Remove(_items.Count, out waiter);
            _items.Add(item);
        }

        // Completed outside the lock; continuations run asynchronously anyway (see WaitAsync).
        waiter?.TrySetResult(item);
        return item;
    }

    public async Task<T> WaitAsync(int index, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        Task<T> arrival;
        lock (_lock)
        {
            if (index < _items.Count)
            {
                return _items[index];
            }

            if (!_waiters.TryGetValue(index, out var waiter))
            {
                waiter = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add(index, waiter);
            }

            arrival = waiter.Task;
        }

        try
        {
            return await arrival.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException(
                $"{_what} #{index} (zero-based) did not arrive within {timeout.TotalSeconds:0.###} s; {Count} arrived.");
        }
    }
}
