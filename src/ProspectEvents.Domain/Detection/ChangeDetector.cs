using System.Globalization;

namespace ProspectEvents.Detection;

/// <summary>What applying one observation did.</summary>
/// <param name="State">The prospect's state afterwards (unchanged when stale).</param>
/// <param name="Event">The event it revealed, if any.</param>
/// <param name="Stale">True when it was not newer than the state and was ignored.</param>
public readonly record struct Detection(ProspectState State, CareerEvent? Event, bool Stale);

/// <summary>
/// The detection rules of docs/detection.md as a pure function: previous state + observation → new state + event.
/// Unknown is never a change; when in doubt, no event.
/// </summary>
public static class ChangeDetector
{
    public static Detection Apply(ProspectState? previous, Observation observation)
    {
        if (previous is null) return new(Baseline(observation), null, false); // first sight: silent
        if (observation.ObservedAt <= previous.ObservedAt) return new(previous, null, true);

        var person = previous with
        {
            ObservedAt = observation.ObservedAt,
            FullName = Known(observation.FullName) ?? previous.FullName,
            LinkedinUrl = Known(observation.LinkedinUrl) ?? previous.LinkedinUrl,
        };
        // Most snapshots repeat what we know: then no normalization is needed to see there is nothing to detect.
        if (RepeatsJob(previous, observation)) return new(person, null, false);

        var before = EmployerIdentity.Of(previous);
        var after = EmployerIdentity.Of(observation);

        if (!before.IsKnown && after.IsKnown)
        {
            // The first employer we learn of is a baseline, not a move.
            return new(person with { CompanyId = observation.CompanyId, CompanyName = observation.CompanyName, CompanyDomain = observation.CompanyDomain,
                JobTitle = Newer(previous.JobTitle, observation.JobTitle, TitleNormalizer.Normalize),
                JobStartDate = observation.JobStartDate ?? previous.JobStartDate }, null, false);
        }

        switch (before.CompareTo(after))
        {
            case EmployerComparison.Different:
            {
                // A new employer: its title and start date are the observation's own, never carried over from the old job.
                var state = person with
                {
                    CompanyId = observation.CompanyId, CompanyName = observation.CompanyName, CompanyDomain = observation.CompanyDomain,
                    JobTitle = observation.JobTitle, JobStartDate = observation.JobStartDate,
                };
                var id = EventIds.For(observation.ProspectId, EventTypeNames.ChangedCompany, before.Key, after.Key, Stamp(observation.ObservedAt));
                return new(state, Change(id, EventTypeNames.ChangedCompany, previous, state, observation), false);
            }
            case EmployerComparison.Same:
            {
                // Each field is normalized once a side (the identities hold the employer's): this runs for every
                // prospect whose snapshot says something new, a sixth of a steady feed.
                var oldTitle = TitleNormalizer.Normalize(previous.JobTitle);
                var newTitle = TitleNormalizer.Normalize(observation.JobTitle);
                var state = person with
                {
                    CompanyId = Newer(previous.CompanyId, before.CompanyId, observation.CompanyId, after.CompanyId),
                    CompanyName = Newer(previous.CompanyName, before.Name, observation.CompanyName, after.Name),
                    CompanyDomain = Newer(previous.CompanyDomain, before.Domain, observation.CompanyDomain, after.Domain),
                    JobTitle = Newer(previous.JobTitle, oldTitle, observation.JobTitle, newTitle),
                    JobStartDate = observation.JobStartDate ?? previous.JobStartDate,
                };
                if (oldTitle is null || newTitle is null || oldTitle == newTitle) return new(state, null, false);
                var id = EventIds.For(observation.ProspectId, EventTypeNames.ChangedRole, after.Key, oldTitle, newTitle, Stamp(observation.ObservedAt));
                return new(state, Change(id, EventTypeNames.ChangedRole, previous, state, observation), false);
            }
            default:
                // Employer unknown or not comparable: the title cannot be judged either (it may belong to a new job),
                // so the job fields stay as they were; a later, comparable snapshot decides.
                return new(person, null, false);
        }
    }

    /// <summary>Applies one prospect's observations oldest first (the order of a batch does not matter).</summary>
    public static (ProspectState? State, List<CareerEvent> Events, int Stale) ApplyAll(ProspectState? state, IEnumerable<Observation> observations)
    {
        var events = new List<CareerEvent>();
        var stale = 0;
        // Ingest hands them over sorted already; sorting again would allocate for each of a million prospects.
        IEnumerable<Observation> ordered = observations is IReadOnlyList<Observation> list && IsSorted(list) ? list : observations.OrderBy(o => o.ObservedAt);
        foreach (var observation in ordered)
        {
            var detection = Apply(state, observation);
            state = detection.State;
            if (detection.Stale) stale++;
            if (detection.Event is { } found) events.Add(found);
        }
        return (state, events, stale);
    }

    private static bool IsSorted(IReadOnlyList<Observation> observations)
    {
        for (var i = 1; i < observations.Count; i++)
        {
            if (observations[i].ObservedAt < observations[i - 1].ObservedAt) return false;
        }
        return true;
    }

    /// <summary>True when every job field of the observation is unknown or, to the letter, what the state holds.</summary>
    private static bool RepeatsJob(ProspectState state, Observation observation) =>
        Repeats(observation.CompanyId, state.CompanyId) && Repeats(observation.CompanyDomain, state.CompanyDomain)
        && Repeats(observation.CompanyName, state.CompanyName) && Repeats(observation.JobTitle, state.JobTitle)
        && (observation.JobStartDate is null || observation.JobStartDate == state.JobStartDate);

    /// <summary>
    /// The text to keep for a field: the observed one only when it says something else than the known one once both
    /// are normalized. A reworded value ("Acme, Inc." for "Acme") keeps the stored text, so the state changes only when
    /// what detection compares changes (which lets ingest skip such observations, see <see cref="Fingerprint"/>).
    /// </summary>
    private static string? Newer(string? known, string? seen, Func<string?, string?> normalize) =>
        Newer(known, normalize(known), seen, normalize(seen));

    /// <inheritdoc cref="Newer(string?, string?, Func{string?, string?})"/>
    private static string? Newer(string? known, string? knownNormal, string? seen, string? seenNormal) =>
        seenNormal is not null && seenNormal != knownNormal ? seen : known;

    /// <summary>The text, or null when it is missing or blank (unknown).</summary>
    public static string? Known(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;

    private static bool Repeats(string? seen, string? known) => seen is null || string.Equals(seen, known, StringComparison.Ordinal);

    private static ProspectState Baseline(Observation o) =>
        new(o.ObservedAt, o.FullName, o.JobTitle, o.CompanyId, o.CompanyName, o.CompanyDomain, o.JobStartDate, o.LinkedinUrl);

    private static CareerEvent Change(string id, string name, ProspectState previous, ProspectState current, Observation observation)
    {
        var eventTime = EventTime(previous.ObservedAt, observation);
        var data = new ChangeEventData(previous.JobTitle, current.JobTitle, previous.CompanyName, previous.CompanyId,
            current.CompanyName, current.CompanyId, eventTime);
        return new CareerEvent(id, name, observation.ProspectId, eventTime, observation.ObservedAt, data);
    }

    /// <summary>The new job's start date when it falls between the two snapshots, else when the change was seen.</summary>
    private static DateTimeOffset EventTime(DateTimeOffset previousObservedAt, Observation observation)
    {
        if (observation.JobStartDate?.Date is { } start)
        {
            var startTime = new DateTimeOffset(start.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            if (startTime > previousObservedAt && startTime <= observation.ObservedAt) return startTime;
        }
        return observation.ObservedAt;
    }

    private static string Stamp(DateTimeOffset time) => time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
}
