namespace ProspectEvents.Detection;

public enum EmployerComparison
{
    Same,
    Different,

    /// <summary>No kind of identity is known on both sides: nothing can be concluded.</summary>
    Unknown,
}

/// <summary>
/// Who employs a prospect, compared by the strongest identity both sides know: company id, else normalized
/// domain, else normalized name (docs/detection.md).
/// </summary>
public readonly record struct EmployerIdentity(string? CompanyId, string? Domain, string? Name)
{
    public static EmployerIdentity Of(string? companyId, string? companyDomain, string? companyName) =>
        new(CompanyNormalizer.Id(companyId), CompanyNormalizer.Domain(companyDomain), CompanyNormalizer.Name(companyName));

    public static EmployerIdentity Of(ProspectState state) => Of(state.CompanyId, state.CompanyDomain, state.CompanyName);

    public static EmployerIdentity Of(Observation observation) => Of(observation.CompanyId, observation.CompanyDomain, observation.CompanyName);

    public bool IsKnown => CompanyId is not null || Domain is not null || Name is not null;

    public EmployerComparison CompareTo(EmployerIdentity other)
    {
        if (CompanyId is not null && other.CompanyId is not null) return Verdict(CompanyId, other.CompanyId);
        if (Domain is not null && other.Domain is not null) return Verdict(Domain, other.Domain);
        if (Name is not null && other.Name is not null) return Verdict(Name, other.Name);
        return EmployerComparison.Unknown;
    }

    /// <summary>The strongest identity known, as a stable text key (for event ids).</summary>
    public string Key => CompanyId is not null ? "id:" + CompanyId : Domain is not null ? "domain:" + Domain : Name is not null ? "name:" + Name : "unknown";

    private static EmployerComparison Verdict(string a, string b) =>
        string.Equals(a, b, StringComparison.Ordinal) ? EmployerComparison.Same : EmployerComparison.Different;
}
