using System.Globalization;

namespace ProspectEvents.Detection;

/// <summary>When a job started: a full date, or only its month (<c>YYYY-MM</c>), as profile feeds give it.</summary>
public readonly record struct JobStartDate(int Year, int Month, int? Day)
{
    public bool IsFullDate => Day is not null;

    /// <summary>The full date, or null when only the month is known.</summary>
    public DateOnly? Date => Day is { } day ? new DateOnly(Year, Month, day) : null;

    public static bool TryParse(string? text, out JobStartDate value)
    {
        value = default;
        if (text is null) return false;
        if (text.Length == 10 && DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            value = new JobStartDate(date.Year, date.Month, date.Day);
            return true;
        }
        if (text.Length == 7 && DateOnly.TryParseExact(text + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var month))
        {
            value = new JobStartDate(month.Year, month.Month, null);
            return true;
        }
        return false;
    }

    public override string ToString() =>
        Day is { } day ? $"{Year:D4}-{Month:D2}-{day:D2}" : $"{Year:D4}-{Month:D2}";
}
