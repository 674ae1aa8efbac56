using System.Globalization;

namespace ProspectEvents.Detection;

/// <summary>Job-start anniversaries (docs/detection.md): one event per prospect, employer and year.</summary>
public static class Anniversaries
{
    /// <summary>The anniversary <paramref name="state"/> has on <paramref name="day"/>, or null.</summary>
    public static CareerEvent? On(string prospectId, ProspectState state, DateOnly day)
    {
        if (state.JobStartDate?.Date is not { } start) return null; // YYYY-MM: no day to celebrate
        var years = day.Year - start.Year;
        if (years < 1 || !IsAnniversary(start, day)) return null;

        var employer = EmployerIdentity.Of(state);
        var time = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var date = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var data = new AnniversaryEventData(state.FullName, state.CompanyName, years, state.JobTitle, date, state.LinkedinUrl, time);
        var id = EventIds.For(prospectId, EventTypeNames.JobStartAnniversary, employer.Key, start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            day.Year.ToString(CultureInfo.InvariantCulture));
        return new CareerEvent(id, EventTypeNames.JobStartAnniversary, prospectId, time, state.ObservedAt, data);
    }

    /// <summary>Same month and day; a 29 February start is celebrated on 28 February in other years.</summary>
    public static bool IsAnniversary(DateOnly start, DateOnly day)
    {
        if (start.Month == 2 && start.Day == 29 && !DateTime.IsLeapYear(day.Year)) return day is { Month: 2, Day: 28 };
        return start.Month == day.Month && start.Day == day.Day;
    }
}
