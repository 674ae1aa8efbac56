namespace ProspectEvents.Detection;

/// <summary>When a job started: a full date, or only its month (<c>YYYY-MM</c>), as profile feeds give it.</summary>
public readonly record struct JobStartDate(int Year, int Month, int? Day)
{
    public bool IsFullDate => Day is not null;

    /// <summary>The full date, or null when only the month is known.</summary>
    public DateOnly? Date => Day is { } day ? new DateOnly(Year, Month, day) : null;

    /// <summary>Parses <c>YYYY-MM-DD</c> or <c>YYYY-MM</c> (digits only; the day must exist in its month).</summary>
    public static bool TryParse(string? text, out JobStartDate value)
    {
        value = default;
        if (text is not ({ Length: 10 } or { Length: 7 }) || text[4] != '-' || !Digits(text, 0, 4, out var year) || !Digits(text, 5, 2, out var month)
            || year < 1 || month is < 1 or > 12)
            return false;
        if (text.Length == 7)
        {
            value = new JobStartDate(year, month, null);
            return true;
        }
        if (text[7] != '-' || !Digits(text, 8, 2, out var day) || day < 1 || day > DateTime.DaysInMonth(year, month)) return false;
        value = new JobStartDate(year, month, day);
        return true;
    }

    // By hand: the general date parser was a visible share of ingest's parsing time.
    private static bool Digits(string text, int start, int count, out int number)
    {
        number = 0;
        for (var i = start; i < start + count; i++)
        {
            if (!char.IsAsciiDigit(text[i])) return false;
            number = number * 10 + (text[i] - '0');
        }
        return true;
    }

    public override string ToString() =>
        Day is { } day ? $"{Year:D4}-{Month:D2}-{day:D2}" : $"{Year:D4}-{Month:D2}";
}
