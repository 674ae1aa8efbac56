using ProspectEvents.Detection;

namespace ProspectEvents.Tests.Detection;

/// <summary>The two start-date forms feeds give (docs/api.md), and everything else refused.</summary>
public sealed class JobStartDateTests
{
    [Theory]
    [InlineData("2024-03-15", 2024, 3, 15)]
    [InlineData("2024-02-29", 2024, 2, 29)]
    [InlineData("0001-01-01", 1, 1, 1)]
    [InlineData("2024-03", 2024, 3, null)]
    public void AFullDateOrAMonthIsRead(string text, int year, int month, int? day)
    {
        Assert.True(JobStartDate.TryParse(text, out var start));
        Assert.Equal(new JobStartDate(year, month, day), start);
        Assert.Equal(text, start.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("2023-02-29")]
    [InlineData("2024-04-31")]
    [InlineData("2024-13-01")]
    [InlineData("2024-00")]
    [InlineData("0000-01-01")]
    [InlineData("2024/03/15")]
    [InlineData("2024-3-15")]
    [InlineData("2024-03-1x")]
    [InlineData("+024-03-15")]
    [InlineData("２０２４-03-15")]
    [InlineData("2024-03-15T00:00:00Z")]
    [InlineData("2024")]
    public void AnythingElseIsRefused(string? text) => Assert.False(JobStartDate.TryParse(text, out _));
}
