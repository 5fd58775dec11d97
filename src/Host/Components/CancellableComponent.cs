using Microsoft.AspNetCore.Components;

namespace Conclave.Host.Components;

/// <summary>
/// A component whose I/O stops when it leaves the page (navigation, closed tab, dropped circuit):
/// pass <see cref="ComponentToken"/> to every call. Blazor ignores the cancelled lifecycle methods
/// and event handlers that follow, so nothing is logged or shown.
/// </summary>
public abstract class CancellableComponent : ComponentBase, IAsyncDisposable
{
    private readonly CancellationTokenSource _disposed = new();

    protected CancellableComponent() => ComponentToken = _disposed.Token;

    /// <summary>Cancelled when the component is disposed; still readable afterwards.</summary>
    protected CancellationToken ComponentToken { get; }

    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync();
        await DisposeAsyncCore();
        _disposed.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what a component holds besides its token, after the token is cancelled.</summary>
    protected virtual ValueTask DisposeAsyncCore() => ValueTask.CompletedTask;
}
