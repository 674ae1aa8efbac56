using System.Globalization;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.ScaleOut;

/// <summary>
/// Monthly snapshots of a few hundred prospects, made from a seed: each month some change employer (with a start
/// date between the snapshots), some are promoted, some are only reworded (<c>Acme</c> → <c>ACME, Inc.</c>,
/// <c>VP Sales</c> → <c>Vice President, Sales</c>), the rest stay as they were. The same seed gives the same stream.
/// </summary>
public static class CareerStream
{
    private static readonly string[] Companies = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises", "Soylent"];

    // Each title with a rewording that means the same job.
    private static readonly (string Title, string Reworded)[] Titles =
    [
        ("VP Sales", "Vice President, Sales"), ("Sr. Software Eng.", "Senior Software Engineer"), ("Director of Treasury", "Treasury Director"),
        ("Product Manager", "product manager"), ("CTO", "Chief Technology Officer"), ("Head of Marketing", "Head of Marketing"),
    ];

    /// <summary><paramref name="snapshots"/> snapshots (oldest first) of prospects 1..<paramref name="prospects"/>, one line each.</summary>
    public static List<List<string>> Snapshots(int prospects, int snapshots, int seed)
    {
        var random = new Random(seed);
        var jobs = Enumerable.Range(1, prospects).Select(_ => (Company: random.Next(Companies.Length), Title: random.Next(Titles.Length))).ToArray();
        var result = new List<List<string>>();
        for (var month = 0; month < snapshots; month++)
        {
            var observedAt = new DateTimeOffset(2026, 3 + month, 1, 8, 0, 0, TimeSpan.Zero);
            var lines = new List<string>(prospects);
            for (var n = 0; n < prospects; n++)
            {
                string? start = null;
                var roll = month == 0 ? 1.0 : random.NextDouble();
                if (roll < 0.15)
                {
                    jobs[n] = ((jobs[n].Company + 1 + random.Next(Companies.Length - 1)) % Companies.Length, random.Next(Titles.Length));
                    start = observedAt.AddDays(-10).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                }
                else if (roll < 0.25)
                {
                    jobs[n] = (jobs[n].Company, (jobs[n].Title + 1) % Titles.Length);
                }
                var reworded = roll is >= 0.25 and < 0.45;
                var company = Companies[jobs[n].Company];
                var (title, rewording) = Titles[jobs[n].Title];
                lines.Add(Feed.Line(Feed.Id(n + 1), observedAt.ToString("O", CultureInfo.InvariantCulture),
                    reworded ? company.ToUpperInvariant() + ", Inc." : company, reworded ? rewording : title, start));
            }
            result.Add(lines);
        }
        return result;
    }
}
