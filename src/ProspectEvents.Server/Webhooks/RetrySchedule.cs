using System.Globalization;
using System.Net.Http.Headers;

namespace ProspectEvents.Server.Webhooks;

/// <summary>
/// When a delivery is attempted, as data (<c>Webhooks:RetrySchedule</c>, e.g. <c>0s,5s,5m,30m,2h,5h,10h,10h</c>):
/// <c>Delays[0]</c> is the wait from detection to attempt 1, <c>Delays[k]</c> the wait after attempt k fails.
/// When it runs out the delivery is dead-lettered.
/// </summary>
public sealed class RetrySchedule
{
    /// <summary>Longest single delay accepted; also keeps parsing clear of <see cref="TimeSpan"/> overflow.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromDays(30);

    /// <summary>Longest a receiver's <c>Retry-After</c> can push an attempt back; a bigger ask is treated as this.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromHours(24);

    /// <summary>Jitter spreads retries of many deliveries that failed together (one receiver outage) by up to this fraction either way.</summary>
    public const double JitterFraction = 0.2;

    private static readonly (string Suffix, TimeSpan Unit)[] Units =
    [
        ("ms", TimeSpan.FromMilliseconds(1)),
        ("s", TimeSpan.FromSeconds(1)),
        ("m", TimeSpan.FromMinutes(1)),
        ("h", TimeSpan.FromHours(1)),
        ("d", TimeSpan.FromDays(1)),
    ];

    public RetrySchedule(IEnumerable<TimeSpan> delays)
    {
        ArgumentNullException.ThrowIfNull(delays);
        var list = delays.ToArray();
        if (list.Length == 0) throw new ArgumentException("A retry schedule needs at least one delay.", nameof(delays));
        if (list.Any(d => d < TimeSpan.Zero || d > MaxDelay))
            throw new ArgumentOutOfRangeException(nameof(delays), $"Retry delays must be between 0 and {MaxDelay.TotalDays} days.");
        Delays = Array.AsReadOnly(list);
    }

    /// <summary>Immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: about 28 hours end to end (docs/webhooks.md).</summary>
    public static RetrySchedule Default { get; } = new(
    [
        TimeSpan.Zero, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30),
        TimeSpan.FromHours(2), TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(10),
    ]);

    public IReadOnlyList<TimeSpan> Delays { get; }

    public int MaxAttempts => Delays.Count;

    /// <summary>
    /// Parses a comma list of whole numbers with a unit (<c>ms</c>, <c>s</c>, <c>m</c>, <c>h</c>, <c>d</c>); on failure
    /// <paramref name="error"/> names the offending item so a bad setting is fixed at start-up, not at the first retry.
    /// </summary>
    public static bool TryParse(string? text, out RetrySchedule? schedule, out string? error)
    {
        schedule = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "The retry schedule is empty: give at least one delay, e.g. 0s,5s,5m.";
            return false;
        }

        var items = text.Split(',');
        var delays = new TimeSpan[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            var (delay, problem) = ParseItem(items[i].Trim());
            if (problem is not null)
            {
                error = $"Retry schedule item {i + 1} {problem}.";
                return false;
            }

            delays[i] = delay;
        }

        schedule = new RetrySchedule(delays);
        error = null;
        return true;
    }

    /// <summary>
    /// The wait before the next attempt once <paramref name="attemptsMade"/> attempts have failed (0: before the first),
    /// or null when the schedule is spent and the delivery is dead-lettered. A scheduled wait gets ±20 % jitter (zero
    /// stays zero: "immediately" means immediately). A receiver's <paramref name="retryAfter"/> is a floor on the wait,
    /// honoured up to 24 h so one misconfigured header cannot park a delivery for a week; it never adds attempts.
    /// </summary>
    public TimeSpan? DelayAfterFailure(int attemptsMade, TimeSpan? retryAfter, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(attemptsMade);
        ArgumentNullException.ThrowIfNull(random);
        if (attemptsMade >= MaxAttempts) return null;

        var scheduled = Delays[attemptsMade];
        var factor = 1 + JitterFraction * (2 * random.NextDouble() - 1);
        var delay = TimeSpan.FromTicks((long)(scheduled.Ticks * factor));

        if (retryAfter is { } asked)
        {
            var floor = asked < TimeSpan.Zero ? TimeSpan.Zero : asked > MaxRetryAfter ? MaxRetryAfter : asked;
            if (delay < floor) delay = floor;
        }

        return delay;
    }

    /// <summary>A response's <c>Retry-After</c> as a wait from <paramref name="now"/>: delta seconds, or an HTTP date (past: zero).</summary>
    public static TimeSpan? ParseRetryAfter(RetryConditionHeaderValue? header, DateTimeOffset now)
    {
        if (header?.Delta is { } delta) return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        if (header?.Date is { } date) return date > now ? date - now : TimeSpan.Zero;
        return null;
    }

    /// <summary>The schedule in the form <see cref="TryParse"/> reads, each delay in its largest whole unit.</summary>
    public override string ToString() => string.Join(',', Delays.Select(Format));

    private static string Format(TimeSpan delay)
    {
        if (delay == TimeSpan.Zero) return "0s";
        for (var i = Units.Length - 1; i > 0; i--)
        {
            if (delay.Ticks % Units[i].Unit.Ticks == 0)
                return (delay.Ticks / Units[i].Unit.Ticks).ToString(CultureInfo.InvariantCulture) + Units[i].Suffix;
        }

        return ((long)delay.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";
    }

    private static (TimeSpan Delay, string? Error) ParseItem(string item)
    {
        if (item.Length == 0) return (default, "is empty");
        if (item[0] == '-') return (default, $"('{item}') is negative; delays are waits, 0s or more");

        var digits = 0;
        while (digits < item.Length && char.IsAsciiDigit(item[digits])) digits++;
        var suffix = item[digits..];
        var unit = Array.FindIndex(Units, u => u.Suffix.Equals(suffix, StringComparison.Ordinal));
        if (digits == 0 || unit < 0)
            return (default, $"('{item}') is not a whole number followed by ms, s, m, h or d (e.g. 30s, 5m, 2h)");

        // Compared in the item's own unit so a huge number cannot overflow TimeSpan.
        var limit = MaxDelay.Ticks / Units[unit].Unit.Ticks;
        if (!long.TryParse(item.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count > limit)
            return (default, $"('{item}') is longer than the {MaxDelay.TotalDays:0}-day limit");
        return (TimeSpan.FromTicks(count * Units[unit].Unit.Ticks), null);
    }
}
