using System.Text.Json;
using ProspectEvents.Detection;

namespace ProspectEvents.Tests.Detection;

public sealed class AnniversaryTests
{
    private const string Dana = "20ae6cbf564ee683e66685e429844a5ff8ffc30f";

    private static ProspectState Started(string start) =>
        new(DateTimeOffset.UnixEpoch, "Dana Levi", "VP Sales", null, "Acme Corp", "acme.com",
            JobStartDate.TryParse(start, out var s) ? s : throw new ArgumentException(start), "https://www.linkedin.com/in/dana-levi");

    [Fact]
    public void TheDayAFullYearHasPassedIsAnAnniversary()
    {
        var e = Anniversaries.On(Dana, Started("2024-03-15"), new DateOnly(2026, 3, 15))!;
        Assert.Equal(EventTypeNames.JobStartAnniversary, e.EventName);
        var data = Assert.IsType<AnniversaryEventData>(e.Data);
        Assert.Equal(2, data.YearsAtCompany);
        Assert.Equal("2026-03-15", data.JobAnniversaryDate);
        Assert.Equal(new DateTimeOffset(2026, 3, 15, 0, 0, 0, TimeSpan.Zero), e.EventTime);
    }

    [Theory]
    [InlineData("2026-03-15", "2026-03-15")] // the start day itself
    [InlineData("2024-03-15", "2026-03-16")] // another day
    public void OtherDaysAreNot(string start, string day) => Assert.Null(Anniversaries.On(Dana, Started(start), DateOnly.Parse(day, System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public void AMonthOnlyStartDateGivesNoAnniversary() => Assert.Null(Anniversaries.On(Dana, Started("2024-03"), new DateOnly(2026, 3, 1)));

    [Fact]
    public void ATwentyNinthOfFebruaryStartIsCelebratedOnTheTwentyEighthInOtherYears()
    {
        Assert.NotNull(Anniversaries.On(Dana, Started("2024-02-29"), new DateOnly(2025, 2, 28)));
        Assert.Null(Anniversaries.On(Dana, Started("2024-02-29"), new DateOnly(2025, 3, 1)));
    }

    [Fact]
    public void ATwentyNinthOfFebruaryStartIsCelebratedOnTheTwentyNinthInLeapYears()
    {
        Assert.NotNull(Anniversaries.On(Dana, Started("2024-02-29"), new DateOnly(2028, 2, 29)));
        Assert.Null(Anniversaries.On(Dana, Started("2024-02-29"), new DateOnly(2028, 2, 28)));
    }

    [Fact]
    public void EachYearHasItsOwnIdAndTheSameYearTheSameId()
    {
        var state = Started("2020-06-01");
        var a = Anniversaries.On(Dana, state, new DateOnly(2025, 6, 1))!;
        var b = Anniversaries.On(Dana, state, new DateOnly(2026, 6, 1))!;
        Assert.NotEqual(a.EventId, b.EventId);
        Assert.Equal(a.EventId, Anniversaries.On(Dana, state, new DateOnly(2025, 6, 1))!.EventId);
    }

    [Fact]
    public void AnniversaryDataCarriesTheAnchorsFieldNames()
    {
        var e = Anniversaries.On(Dana, Started("2024-03-15"), new DateOnly(2026, 3, 15))!;
        var json = JsonSerializer.SerializeToElement(e.Data, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower });
        Assert.Equal(["full_name", "company_name", "years_at_company", "job_title", "job_anniversary_date", "linkedin_url", "event_time"],
            json.EnumerateObject().Select(p => p.Name));
    }
}
