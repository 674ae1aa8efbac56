using Microsoft.Extensions.Options;

namespace ProspectEvents.Server.Auth;

/// <summary>
/// Failed authentications per client address, in an exact sliding window, so a key-guessing loop is slowed down
/// without touching any real key's limit. Kept in each process: behind a balancer of N processes, an address gets
/// N times <see cref="RateLimitingOptions.FailedAuthPermitsPerWindow"/>, still far too few to guess a key.
/// </summary>
public sealed class FailedAuthLimiter(IOptions<RateLimitingOptions> options, TimeProvider clock)
{
    // Addresses come and go (a flood may come from many): past this many, those idle for a window are dropped.
    private const int AddressesKept = 10_000;

    private readonly LocalWindows _failures = new(clock, options.Value.Window);

    /// <summary>Seconds until <paramref name="address"/> may try to authenticate again, or null while it may.</summary>
    public int? Exhausted(string address)
    {
        if (!_failures.Contains(address)) return null;
        var decision = _failures.Take(address, options.Value.FailedAuthPermitsPerWindow, consume: false);
        return decision.Remaining > 0 ? null : Math.Max(1, decision.ResetSeconds);
    }

    /// <summary>Counts a failed authentication of <paramref name="address"/>.</summary>
    public void Record(string address)
    {
        if (_failures.Count > AddressesKept) _failures.ForgetIdle();
        _failures.Take(address, options.Value.FailedAuthPermitsPerWindow, consume: true);
    }
}
