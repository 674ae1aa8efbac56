using ProspectEvents.Server.Cli;

namespace ProspectEvents.Tests.Cli;

/// <summary>The demo feed's calendar and the listen line's colour, without a server.</summary>
public sealed class DemoFeedTests
{
    [Theory]
    [InlineData("2028-02-29")]
    [InlineData("2027-01-01")]
    [InlineData("2026-12-31")]
    public void OnlyThePlantedAnniversariesFallOnTheDemoDateEvenOnALeapDay(string date)
    {
        var day = DateOnly.Parse(date, System.Globalization.CultureInfo.InvariantCulture);
        var feed = DemoFeed.Create(50, 11, day);

        var due = feed.Observations.Where(o => o.JobStartDate?.Date is { } start && start.Month == day.Month && start.Day == day.Day && start.Year < day.Year)
            .Select(o => o.ProspectId).ToHashSet();

        Assert.Equal(feed.Planted.Where(p => p.EventName == EventTypeNames.JobStartAnniversary).Select(p => p.ProspectId).ToHashSet(), due);
        Assert.All(feed.Observations, o => Assert.True(o.ObservedAt < new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero), "every snapshot is before the demo date"));
    }

    [Fact]
    public void AListenLineIsColouredOnlyWhenAskedAndSaysBadInWords()
    {
        var fields = new DeliveryLine.Fields(EventTypeNames.ChangedRole, new string('a', 40), "demo");
        var at = new DateTimeOffset(2026, 11, 1, 9, 14, 2, TimeSpan.Zero);

        var plain = DeliveryLine.Format(at, fields, new SignatureCheck(true, false), 401, colour: false);
        var coloured = DeliveryLine.Format(at, fields, new SignatureCheck(true, false), 401, colour: true);

        Assert.Equal($"09:14:02  {EventTypeNames.ChangedRole,-30}  {new string('a', 40)}  demo  anchor ok  standard BAD  401", plain);
        Assert.Contains("\e[1;31mstandard BAD\e[0m", coloured);
        Assert.Equal(plain, System.Text.RegularExpressions.Regex.Replace(coloured, "\e\\[[0-9;]*m", ""));
    }
}
