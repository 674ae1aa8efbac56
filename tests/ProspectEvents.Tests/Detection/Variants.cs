namespace ProspectEvents.Tests.Detection;

/// <summary>
/// Employer names and job titles as real profiles and vendor exports restate them (punctuation, legal forms, articles,
/// entities, full-width and accented letters, decorations, word order), mixed with real changes, for the property
/// tests of detection, fingerprints and the ingest pipeline.
/// </summary>
internal static class Variants
{
    public static readonly string?[] Companies =
    [
        "Acme", "Acme, Inc.", "ACME", "The Acme Company", "Acme&amp;#44; Inc.", "\uFF21cme", "Globex", "Globex Corp.", "Globex GmbH & Co. KG",
        "Initech", "Société Générale", "Societe\u00A0Generale S.A.", null, "",
    ];

    public static readonly string?[] Titles =
    [
        "VP Sales", "Vice President, Sales", "Vice President of Sales", "Sales VP", "V.P. Sales @ Acme", "VP Sales | Hiring!", "CEO",
        "Chief Executive Officer", "Sr. Eng.", "Senior Engineer (she/her)", "Co-Founder", "Cofounder", null, "",
    ];
}
