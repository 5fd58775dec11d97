using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Conclave.Identity.Accounts;

/// <summary><c>Conclave:Identity:SignInThrottle</c>: how fast one client address, and one user name, may try to sign in.</summary>
internal sealed class SignInThrottleOptions
{
    public const string Section = "Conclave:Identity:SignInThrottle";

    /// <summary>Requests to the sign-in endpoints (login and register forms, token, authorize) per client address per <see cref="AddressWindow"/>.</summary>
    [Range(1, int.MaxValue)]
    public int AddressPermitLimit { get; set; } = 30;

    public TimeSpan AddressWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Failed sign-ins as one user (or one client) from one address before each further try has to wait.</summary>
    [Range(1, 1000)]
    public int FreeFailures { get; set; } = 5;

    /// <summary>The wait after the first failure beyond the free ones; it doubles with every further failure, up to <see cref="MaxDelay"/>.</summary>
    public TimeSpan FirstDelay { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Failed sign-ins as one user from all addresses together per <see cref="FailureWindow"/>; beyond it, only
    /// browsers that signed in as that user before may try (each with its own budget) until the window ends.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int UserNameFailureLimit { get; set; } = 50;

    /// <summary>How long failures are remembered.</summary>
    public TimeSpan FailureWindow { get; set; } = TimeSpan.FromHours(1);

    public bool HasSaneDurations =>
        AddressWindow > TimeSpan.Zero && FirstDelay > TimeSpan.Zero && FirstDelay <= MaxDelay && FailureWindow > TimeSpan.Zero;
}

/// <summary>
/// Slows password guessing down without handing strangers a way to lock a user out (docs/adr/0007):
/// a request budget per client address; per user name and address (or per browser that signed in as
/// that user before) a few free failures, then a wait that doubles with each further failure; and a
/// looser budget per user name over all addresses, which those known browsers do not share. Every
/// admitted try counts as a failure until it succeeds, so parallel guesses cannot slip through
/// together. The counts live in this node's memory.
/// </summary>
internal sealed class SignInThrottle : IDisposable
{
    private readonly SignInThrottleOptions _options;
    private readonly TimeProvider _time;
    private readonly KnownBrowsers _browsers;
    private readonly PartitionedRateLimiter<string> _addresses;
    // Bounded: a flood of made-up user names cannot fill the memory (when full, compaction drops the least recently used).
    private readonly MemoryCache _failures = new(new MemoryCacheOptions { SizeLimit = 100_000 });
    private readonly Lock _gate = new();

    public SignInThrottle(IOptions<SignInThrottleOptions> options, TimeProvider time, KnownBrowsers browsers)
    {
        _options = options.Value;
        _time = time;
        _browsers = browsers;
        var settings = _options;
        _addresses = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(
            address,
            _ => new FixedWindowRateLimiterOptions { PermitLimit = settings.AddressPermitLimit, Window = settings.AddressWindow, QueueLimit = 0 }));
    }

    /// <summary>Admits one request to a sign-in endpoint from this client address; else how long to wait.</summary>
    public TimeSpan? AdmitRequest(HttpContext http)
    {
        using var lease = _addresses.AttemptAcquire(AddressOf(http));
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : _options.AddressWindow;
    }

    /// <summary>Admits one password check for <paramref name="userName"/>; else how long to wait (the password must not be checked then).</summary>
    public TimeSpan? AdmitPasswordCheck(HttpContext http, string userName)
    {
        if (AdmitRequest(http) is { } wait)
        {
            return wait;
        }

        var name = Normalize(userName);
        var browser = _browsers.IdFor(http, name);
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            // A browser that signed in as this user before has its own budget and skips the user name's shared one.
            var own = AttemptsFor(browser is null ? ("address", AddressOf(http), name) : ("browser", browser, name), now);
            var shared = browser is null ? AttemptsFor(("name", "", name), now) : null;
            if (Backoff(own, now) is { } backoff)
            {
                return backoff;
            }

            if (shared is not null)
            {
                if (now - shared.Since >= _options.FailureWindow)
                {
                    shared.Count = 0;
                    shared.Since = now;
                }

                if (shared.Count >= _options.UserNameFailureLimit)
                {
                    return shared.Since + _options.FailureWindow - now;
                }

                shared.Count++;
            }

            own.Count++;
            own.Last = now;
            return null;
        }
    }

    /// <summary>The password was right: this address's (or browser's) failures for the user are forgiven, and the browser is remembered.</summary>
    public void PasswordCheckSucceeded(HttpContext http, string userName)
    {
        var name = Normalize(userName);
        var browser = _browsers.IdFor(http, name);
        lock (_gate)
        {
            _failures.Remove(browser is null ? ("address", AddressOf(http), name) : ("browser", browser, name));
            if (browser is null && _failures.Get<Attempts>(("name", "", name)) is { Count: > 0 } shared)
            {
                shared.Count--;
            }
        }

        _browsers.Remember(http, name, browser);
    }

    /// <summary>
    /// Admits one token request of <paramref name="clientId"/>; else how long to wait. Per address only: the
    /// token endpoint's secrets are random, and a budget per client over all addresses would let one
    /// stranger cut off every user of a shared public client.
    /// </summary>
    public TimeSpan? AdmitClientCheck(HttpContext http, string clientId)
    {
        if (AdmitRequest(http) is { } wait)
        {
            return wait;
        }

        var now = _time.GetUtcNow();
        lock (_gate)
        {
            var own = AttemptsFor(("client", AddressOf(http), clientId), now);
            if (Backoff(own, now) is { } backoff)
            {
                return backoff;
            }

            own.Count++;
            own.Last = now;
            return null;
        }
    }

    public void ClientCheckSucceeded(HttpContext http, string clientId)
    {
        lock (_gate)
        {
            _failures.Remove(("client", AddressOf(http), clientId));
        }
    }

    /// <summary>Sets <c>Retry-After</c> in whole seconds (at least one).</summary>
    public static int SetRetryAfter(HttpResponse response, TimeSpan wait)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return seconds;
    }

    public void Dispose()
    {
        _addresses.Dispose();
        _failures.Dispose();
    }

    /// <summary>The wait still due after <paramref name="own"/>'s failures, or null when it may try now.</summary>
    private TimeSpan? Backoff(Attempts own, DateTimeOffset now)
    {
        if (own.Count < _options.FreeFailures)
        {
            return null;
        }

        var seconds = _options.FirstDelay.TotalSeconds * Math.Pow(2, Math.Min(own.Count - _options.FreeFailures, 40));
        var delay = seconds >= _options.MaxDelay.TotalSeconds ? _options.MaxDelay : TimeSpan.FromSeconds(seconds);
        var due = own.Last + delay - now;
        return due > TimeSpan.Zero ? due : null;
    }

    private Attempts AttemptsFor((string Kind, string Who, string Name) key, DateTimeOffset now)
    {
        var attempts = _failures.GetOrCreate(key, entry =>
        {
            entry.Size = 1;
            entry.SlidingExpiration = _options.FailureWindow;
            return new Attempts { Since = now, Last = now };
        })!;
        if (attempts.Count > 0 && now - attempts.Last >= _options.FailureWindow)
        {
            // Long quiet: the old failures are forgotten.
            attempts.Count = 0;
            attempts.Since = now;
        }

        return attempts;
    }

    /// <summary>The client's address; for IPv6 its /64 network, which one host usually holds whole.</summary>
    private static string AddressOf(HttpContext http)
    {
        var address = http.Connection.RemoteIpAddress;
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            return new IPAddress(bytes) + "/64";
        }

        return address.ToString();
    }

    /// <summary>Identity compares user names upper-cased; longer names than Identity stores cannot exist.</summary>
    private static string Normalize(string userName)
    {
        var name = userName.Trim().ToUpperInvariant();
        return name.Length > 256 ? name[..256] : name;
    }

    private sealed class Attempts
    {
        public int Count { get; set; }

        public DateTimeOffset Since { get; set; }

        public DateTimeOffset Last { get; set; }
    }
}
