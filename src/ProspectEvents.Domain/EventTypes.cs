namespace ProspectEvents;

/// <summary>The career events we detect, as a bit set so an enrollment's subscription is one integer.</summary>
[Flags]
public enum EventTypes
{
    None = 0,
    ProspectChangedRole = 1,
    ProspectChangedCompany = 2,
    ProspectJobStartAnniversary = 4,
}

/// <summary>The wire names of <see cref="EventTypes"/> (Explorium's ProspectsEventIdentifier values).</summary>
public static class EventTypeNames
{
    public const string ChangedRole = "prospect_changed_role";
    public const string ChangedCompany = "prospect_changed_company";
    public const string JobStartAnniversary = "prospect_job_start_anniversary";

    /// <summary>Every wire name, in the order the anchor documents them.</summary>
    public static readonly IReadOnlyList<string> All = [ChangedRole, ChangedCompany, JobStartAnniversary];

    public static bool TryParse(string name, out EventTypes type)
    {
        type = name switch
        {
            ChangedRole => EventTypes.ProspectChangedRole,
            ChangedCompany => EventTypes.ProspectChangedCompany,
            JobStartAnniversary => EventTypes.ProspectJobStartAnniversary,
            _ => EventTypes.None,
        };
        return type != EventTypes.None;
    }

    /// <summary>The wire names of every type in <paramref name="types"/>, in documented order.</summary>
    public static List<string> ToNames(EventTypes types)
    {
        var names = new List<string>(3);
        if (types.HasFlag(EventTypes.ProspectChangedRole)) names.Add(ChangedRole);
        if (types.HasFlag(EventTypes.ProspectChangedCompany)) names.Add(ChangedCompany);
        if (types.HasFlag(EventTypes.ProspectJobStartAnniversary)) names.Add(JobStartAnniversary);
        return names;
    }
}
