using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ProspectEvents.Detection;

namespace ProspectEvents.Server.Cli;

/// <summary>An event the demo feed is built to produce, and how.</summary>
public sealed record PlantedEvent(string ProspectId, string EventName, string FullName, string What);

/// <summary>
/// A sample feed for the quick start: three monthly snapshots of real-looking people, some of whom change employer, are
/// promoted, or reach a job anniversary on the demo date, and some whose profiles are only reworded (case, punctuation,
/// legal forms, spacing, abbreviations), which must stay quiet. Deterministic for a seed and a date.
/// </summary>
public sealed class DemoFeed
{
    /// <summary>What each prospect's three snapshots show, assigned in turn so every story appears in a small feed.</summary>
    private enum Story { CompanyChange, RoleChange, Reworded, Anniversary, Unchanged }

    private static readonly string[] FirstNames =
    [
        "Dana", "Eli", "Maya", "Noah", "Priya", "Lucas", "Amara", "Kenji", "Sofia", "Mateo", "Leila", "Oren", "Chloé", "Tomasz",
        "Aisha", "Jonas", "Ingrid", "Rafael", "Mei", "Kwame", "Elena", "Arjun", "Hannah", "Diego",
    ];

    private static readonly string[] LastNames =
    [
        "Levi", "Carter", "Okafor", "Nakamura", "Rossi", "Schneider", "Haddad", "Kowalski", "Fernández", "Lindqvist", "Patel",
        "Dubois", "O'Neil", "Mensah", "Novak", "Ferreira", "Yilmaz", "Andersen", "Chen", "Müller",
    ];

    /// <summary>Employers: a name as profiles write it (with its legal form) and a domain.</summary>
    private static readonly (string Name, string Domain)[] Companies =
    [
        ("Northwind Traders Inc.", "northwind.com"), ("Globex Corporation", "globex.com"), ("Initech LLC", "initech.io"),
        ("Umbrella Health GmbH", "umbrella-health.de"), ("Stark Analytics Ltd", "starkanalytics.co.uk"),
        ("Wayne Logistics Co.", "waynelogistics.com"), ("Tyrell Robotics AG", "tyrell.ch"), ("Hooli Inc.", "hooli.com"),
        ("Pied Piper, Inc.", "piedpiper.com"), ("Vandelay Industries Corp.", "vandelay.com"), ("Soylent Foods S.A.", "soylent.fr"),
        ("Cyberdyne Systems B.V.", "cyberdyne.nl"),
    ];

    /// <summary>A title and the promotion that is a real role change at the same employer.</summary>
    private static readonly (string Title, string Promotion)[] Careers =
    [
        ("Account Executive", "Senior Account Executive"), ("Software Engineer", "Staff Software Engineer"),
        ("Sales Manager", "Director of Sales"), ("Product Manager", "Senior Product Manager"),
        ("Marketing Manager", "Head of Marketing"), ("Data Analyst", "Data Science Manager"),
        ("Engineering Manager", "Director of Engineering"), ("Customer Success Manager", "VP Customer Success"),
        ("Recruiter", "Talent Acquisition Lead"), ("Financial Analyst", "Finance Manager"),
    ];

    /// <summary>Titles with two rewordings each that the detector reads as the same job.</summary>
    private static readonly string[][] ReworkedTitles =
    [
        ["VP Sales", "Vice President, Sales", "vp   sales"],
        ["Sr. Software Engineer", "Senior Software Engineer", "SENIOR SOFTWARE ENG."],
        ["Director of Marketing", "Marketing Director", "Director, Marketing @ the company"],
        ["Head of Product", "head of product | Hiring!", "Head of Product"],
        ["Operations Manager", "Ops Mgr", "Operations  Manager"],
    ];

    private DemoFeed(IReadOnlyList<Observation> observations, IReadOnlyList<PlantedEvent> planted, DateOnly date)
    {
        Observations = observations;
        Planted = planted;
        Date = date;
    }

    /// <summary>Every snapshot line, oldest snapshot first.</summary>
    public IReadOnlyList<Observation> Observations { get; }

    /// <summary>The events ingesting the feed (and sweeping <see cref="Date"/>'s anniversaries) yields: these and no others.</summary>
    public IReadOnlyList<PlantedEvent> Planted { get; }

    /// <summary>The day the anniversaries fall on; the last snapshot is the day before.</summary>
    public DateOnly Date { get; }

    public IEnumerable<string> ProspectIds => Observations.Select(o => o.ProspectId).Distinct();

    public static DemoFeed Create(int prospects, int seed, DateOnly date)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(prospects, 1);
        var random = new Random(seed);
        var snapshots = new[] { date.AddDays(-61), date.AddDays(-31), date.AddDays(-1) }
            .Select(d => new DateTimeOffset(d.ToDateTime(new TimeOnly(8, 0)), TimeSpan.Zero)).ToArray();
        var lines = new List<Observation>[3] { [], [], [] };
        var planted = new List<PlantedEvent>();

        for (var i = 0; i < prospects; i++)
        {
            var id = ProspectIdOf(seed, i);
            var first = FirstNames[random.Next(FirstNames.Length)];
            var last = LastNames[random.Next(LastNames.Length)];
            var name = $"{first} {last}";
            var profile = $"https://www.linkedin.com/in/{Slug(first)}-{Slug(last)}-{id[..4]}";
            var company = Companies[random.Next(Companies.Length)];
            var career = Careers[random.Next(Careers.Length)];
            var started = OrdinaryStart(random, date);
            Observation Snapshot(int s, (string Name, string Domain) at, string title, DateOnly start, bool withId = true) => new(
                id, snapshots[s], name, title, withId ? CompanyIdOf(at.Name) : null, at.Name, at.Domain, new JobStartDate(start.Year, start.Month, start.Day), profile);

            switch ((Story)(i % 5))
            {
                case Story.CompanyChange:
                    {
                        var next = Companies[(Array.IndexOf(Companies, company) + 1 + random.Next(Companies.Length - 1)) % Companies.Length];
                        var nextTitle = Careers[random.Next(Careers.Length)].Promotion;
                        var moveAt = i % 2 == 0 ? 2 : 1; // some move before the second snapshot, some before the third
                        var joined = snapshots[moveAt - 1].AddDays(12);
                        for (var s = 0; s < 3; s++)
                        {
                            lines[s].Add(s < moveAt
                                ? Snapshot(s, company, s == 1 ? career.Title.ToUpperInvariant() : career.Title, started)
                                : Snapshot(s, next, nextTitle, DateOnly.FromDateTime(joined.UtcDateTime)));
                        }
                        planted.Add(new PlantedEvent(id, EventTypeNames.ChangedCompany, name, $"{Plain(company.Name)} → {Plain(next.Name)}"));
                        break;
                    }
                case Story.RoleChange:
                    for (var s = 0; s < 3; s++) lines[s].Add(Snapshot(s, company, s < 2 ? career.Title : career.Promotion, started));
                    planted.Add(new PlantedEvent(id, EventTypeNames.ChangedRole, name, $"{career.Title} → {career.Promotion} at {Plain(company.Name)}"));
                    break;
                case Story.Reworded:
                    {
                        // No company id, and no domain in the middle snapshot, so the name and the domain are what is compared.
                        var titles = ReworkedTitles[random.Next(ReworkedTitles.Length)];
                        var plain = Plain(company.Name);
                        lines[0].Add(Snapshot(0, company, titles[0], started, withId: false));
                        lines[1].Add(Snapshot(1, company, titles[1], started, withId: false)
                            with { CompanyName = $"{plain.ToUpperInvariant()},  {LegalForm(company.Name).TrimEnd('.')}", CompanyDomain = null });
                        lines[2].Add(Snapshot(2, company, titles[2], started, withId: false)
                            with { CompanyName = $"  {plain}  ", CompanyDomain = $"https://www.{company.Domain}/about" });
                        break;
                    }
                case Story.Anniversary:
                    {
                        // Whole multiples of four years, so a 29 February demo date has a 29 February start.
                        var years = 4 * (1 + random.Next(3));
                        for (var s = 0; s < 3; s++) lines[s].Add(Snapshot(s, company, career.Title, date.AddYears(-years)));
                        planted.Add(new PlantedEvent(id, EventTypeNames.JobStartAnniversary, name, $"{years} years at {Plain(company.Name)} on {date:yyyy-MM-dd}"));
                        break;
                    }
                default:
                    for (var s = 0; s < 3; s++) lines[s].Add(Snapshot(s, company, career.Title, started));
                    break;
            }
        }
        // Lines within a snapshot may come in any order: shuffle them, as vendor exports do.
        foreach (var snapshot in lines) random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(snapshot));
        return new DemoFeed([.. lines.SelectMany(l => l)], planted, date);
    }

    /// <summary>The feed as NDJSON lines in the format <c>ingest</c> reads, one at a time so a large feed is never held whole.</summary>
    public IEnumerable<string> NdjsonLines()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        foreach (var o in Observations)
        {
            buffer.ResetWrittenCount();
            json.Reset(); // one JSON value a line
            json.WriteStartObject();
            json.WriteString("prospect_id", o.ProspectId);
            json.WriteString("observed_at", o.ObservedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            json.WriteString("full_name", o.FullName);
            json.WriteString("job_title", o.JobTitle);
            if (o.CompanyId is null) json.WriteNull("company_id");
            else json.WriteString("company_id", o.CompanyId);
            json.WriteString("company_name", o.CompanyName);
            if (o.CompanyDomain is not null) json.WriteString("company_domain", o.CompanyDomain);
            json.WriteString("job_start_date", o.JobStartDate!.Value.ToString());
            json.WriteString("linkedin_url", o.LinkedinUrl);
            json.WriteEndObject();
            json.Flush();
            yield return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
    }

    /// <summary>A start date far from the demo date's day of the year, so only the planted anniversaries fall on it.</summary>
    private static DateOnly OrdinaryStart(Random random, DateOnly date)
    {
        while (true)
        {
            var start = new DateOnly(2012 + random.Next(13), 1 + random.Next(12), 1 + random.Next(28));
            if (start.Month != date.Month || Math.Abs(start.Day - date.Day) > 1) return start;
        }
    }

    private static string ProspectIdOf(int seed, int index) =>
        Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes($"demo prospect {seed}/{index}")));

    private static string CompanyIdOf(string name) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(Plain(name))));

    /// <summary>A company name without its legal form: "Pied Piper, Inc." → "Pied Piper".</summary>
    private static string Plain(string name) => name[..^LegalForm(name).Length].TrimEnd(' ', ',');

    private static string LegalForm(string name) => name[(name.LastIndexOf(' ') + 1)..];

    private static string Slug(string name) => new([.. name.ToLowerInvariant().Normalize(NormalizationForm.FormD).Where(char.IsAsciiLetterLower)]);
}
