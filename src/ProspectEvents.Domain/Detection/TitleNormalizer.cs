namespace ProspectEvents.Detection;

/// <summary>
/// The normal form of a job title: case, punctuation and spacing removed and common abbreviations expanded,
/// so "Sr. Software Eng." equals "Senior Software Engineer" and a reformatted title is not a role change.
/// </summary>
public static class TitleNormalizer
{
    /// <summary>Abbreviation (a whole word) → its expansion.</summary>
    public static readonly IReadOnlyDictionary<string, string> Abbreviations = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["sr"] = "senior", ["snr"] = "senior", ["jr"] = "junior",
        ["vp"] = "vice president", ["svp"] = "senior vice president", ["evp"] = "executive vice president", ["avp"] = "assistant vice president",
        ["mgr"] = "manager", ["mngr"] = "manager", ["mgmt"] = "management",
        ["eng"] = "engineer", ["engr"] = "engineer", ["swe"] = "software engineer", ["sw"] = "software",
        ["dir"] = "director", ["assoc"] = "associate", ["asst"] = "assistant", ["exec"] = "executive",
        ["dev"] = "developer", ["mktg"] = "marketing", ["ops"] = "operations", ["rep"] = "representative",
        ["acct"] = "account", ["intl"] = "international", ["hr"] = "human resources", ["qa"] = "quality assurance",
        ["ceo"] = "chief executive officer", ["cto"] = "chief technology officer", ["cfo"] = "chief financial officer",
        ["coo"] = "chief operating officer", ["cmo"] = "chief marketing officer", ["cio"] = "chief information officer",
    };

    private static readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> AbbreviationLookup =
        ((Dictionary<string, string>)Abbreviations).GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The normal form; null for a missing or empty title (unknown, not a change).</summary>
    public static string? Normalize(string? title) => NormalForm.ToString(title, Normalize);

    /// <inheritdoc cref="Normalize(string?)"/>
    public static int Normalize(ReadOnlySpan<char> title, Span<char> destination) => NormalForm.Words(title, destination, AbbreviationLookup);
}
