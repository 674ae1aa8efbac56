using System.Net.Http.Headers;
using ProspectEvents.Server.Webhooks;

namespace ProspectEvents.Tests.Webhooks;

public sealed class RetryScheduleTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);

    private static RetrySchedule Parse(string text)
    {
        Assert.True(RetrySchedule.TryParse(text, out var schedule, out var error), error);
        return schedule!;
    }

    private static string ErrorOf(string? text)
    {
        Assert.False(RetrySchedule.TryParse(text, out var schedule, out var error));
        Assert.Null(schedule);
        return error!;
    }

    [Fact]
    public void TheDefaultIsTheDesignedScheduleOfEightAttempts()
    {
        Assert.Equal("0s,5s,5m,30m,2h,5h,10h,10h", RetrySchedule.Default.ToString());
        Assert.Equal(8, RetrySchedule.Default.MaxAttempts);
        Assert.Equal(TimeSpan.FromHours(10), RetrySchedule.Default.Delays[^1]);
    }

    [Fact]
    public void EveryUnitParsesAndSpacesAroundItemsAreAllowed()
    {
        var schedule = Parse(" 0s , 250ms,5s ,\t5m,2h, 1d ");
        Assert.Equal(
            [TimeSpan.Zero, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromHours(2), TimeSpan.FromDays(1)],
            schedule.Delays);
    }

    [Fact]
    public void ASingleItemIsASchedule() => Assert.Equal([TimeSpan.FromSeconds(1)], Parse("1s").Delays);

    [Theory]
    [InlineData("0s,5s,5m,30m,2h,5h,10h,10h", "0s,5s,5m,30m,2h,5h,10h,10h")]
    [InlineData("60s, 1500ms, 24h, 90m", "1m,1500ms,1d,90m")]
    public void ToStringReadsBackAsTheSameDelays(string text, string expected)
    {
        var schedule = Parse(text);
        Assert.Equal(expected, schedule.ToString());
        Assert.Equal(schedule.Delays, Parse(schedule.ToString()).Delays);
    }

    [Theory]
    [InlineData("0s,5x,5m", "Retry schedule item 2 ('5x') is not a whole number followed by ms, s, m, h or d (e.g. 30s, 5m, 2h).")]
    [InlineData("5", "Retry schedule item 1 ('5') is not a whole number followed by ms, s, m, h or d (e.g. 30s, 5m, 2h).")]
    [InlineData("1.5h", "Retry schedule item 1 ('1.5h') is not a whole number followed by ms, s, m, h or d (e.g. 30s, 5m, 2h).")]
    [InlineData("0s,1s,-5s", "Retry schedule item 3 ('-5s') is negative; delays are waits, 0s or more.")]
    [InlineData("0s,,5s", "Retry schedule item 2 is empty.")]
    [InlineData("1s,", "Retry schedule item 2 is empty.")]
    [InlineData("31d", "Retry schedule item 1 ('31d') is longer than the 30-day limit.")]
    [InlineData("99999999999999999999h", "Retry schedule item 1 ('99999999999999999999h') is longer than the 30-day limit.")]
    public void ABadItemIsNamedInTheError(string text, string expected) => Assert.Equal(expected, ErrorOf(text));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void AnEmptyScheduleIsRefused(string? text) => Assert.Contains("at least one delay", ErrorOf(text), StringComparison.Ordinal);

    [Fact]
    public void EachAttemptWaitsItsOwnDelayWithinTwentyPercent()
    {
        var schedule = Parse("10s,5m,2h");
        var random = new Random(7);
        for (var attemptsMade = 0; attemptsMade < 3; attemptsMade++)
        {
            var scheduled = schedule.Delays[attemptsMade];
            var draws = Enumerable.Range(0, 2000).Select(_ => schedule.DelayAfterFailure(attemptsMade, null, random)!.Value).ToList();

            Assert.All(draws, d => Assert.InRange(d, scheduled * 0.8, scheduled * 1.2));
            // Spread over the whole band, not stuck at the scheduled value.
            Assert.True(draws.Min() < scheduled * 0.82 && draws.Max() > scheduled * 1.18, $"{draws.Min()}..{draws.Max()} for {scheduled}");
        }
    }

    [Fact]
    public void AZeroDelayStaysImmediate()
    {
        var random = new Random(1);
        Assert.All(Enumerable.Range(0, 100), _ => Assert.Equal(TimeSpan.Zero, RetrySchedule.Default.DelayAfterFailure(0, null, random)));
    }

    [Fact]
    public void AnExhaustedScheduleGivesNoFurtherAttempt()
    {
        var schedule = Parse("0s,1s,1s");
        Assert.NotNull(schedule.DelayAfterFailure(2, null, Random.Shared));
        Assert.Null(schedule.DelayAfterFailure(3, null, Random.Shared));
        Assert.Null(schedule.DelayAfterFailure(3, TimeSpan.FromSeconds(5), Random.Shared));
    }

    [Fact]
    public void RetryAfterLongerThanTheScheduleIsHonoured() =>
        Assert.Equal(TimeSpan.FromMinutes(2), Parse("0s,5s").DelayAfterFailure(1, TimeSpan.FromMinutes(2), new Random(3)));

    [Fact]
    public void RetryAfterShorterThanTheScheduleDoesNotShortenIt()
    {
        var delay = Parse("0s,5m").DelayAfterFailure(1, TimeSpan.FromSeconds(1), new Random(3))!.Value;
        Assert.InRange(delay, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(6));
    }

    [Fact]
    public void RetryAfterIsCappedAtADay() =>
        Assert.Equal(TimeSpan.FromHours(24), Parse("0s,5s").DelayAfterFailure(1, TimeSpan.FromDays(7), new Random(3)));

    [Fact]
    public void RetryAfterInSecondsIsAWaitFromNow() =>
        Assert.Equal(TimeSpan.FromSeconds(120), RetrySchedule.ParseRetryAfter(RetryConditionHeaderValue.Parse("120"), Now));

    [Fact]
    public void RetryAfterAsAnHttpDateIsTheTimeLeftUntilThen() =>
        Assert.Equal(TimeSpan.FromMinutes(10), RetrySchedule.ParseRetryAfter(RetryConditionHeaderValue.Parse("Sun, 01 Nov 2026 08:10:00 GMT"), Now));

    [Fact]
    public void RetryAfterAsAPastHttpDateMeansNoWait() =>
        Assert.Equal(TimeSpan.Zero, RetrySchedule.ParseRetryAfter(RetryConditionHeaderValue.Parse("Sun, 01 Nov 2026 07:00:00 GMT"), Now));

    [Fact]
    public void NoRetryAfterHeaderMeansNoFloor() => Assert.Null(RetrySchedule.ParseRetryAfter(null, Now));
}
