using System.Globalization;
using System.Text;

namespace ProspectEvents.Tests.Infrastructure;

/// <summary>Builds observation lines for ingest tests.</summary>
public static class Feed
{
    public const string Dana = "20ae6cbf564ee683e66685e429844a5ff8ffc30f";
    public const string Eli = "4c485f009d59e319dc039cdf3e935b85014e6a33";

    public static string Line(string prospectId, string observedAt, string company, string title = "VP Sales", string? start = null) =>
        $$"""{"prospect_id":"{{prospectId}}","observed_at":"{{observedAt}}","full_name":"Dana Levi","job_title":"{{title}}","company_name":"{{company}}"{{(start is null ? "" : $",\"job_start_date\":\"{start}\"")}}}""";

    public static string Lines(params string[] lines) => string.Join('\n', lines) + "\n";

    /// <summary>Prospect n's 40-hex id.</summary>
    public static string Id(int n) => n.ToString("x40", CultureInfo.InvariantCulture);

    /// <summary>A first snapshot of <paramref name="count"/> prospects at Acme, then a second with every <paramref name="moveEvery"/>-th at Globex.</summary>
    public static string TwoSnapshots(int count, int moveEvery)
    {
        var text = new StringBuilder();
        for (var i = 0; i < count; i++) text.AppendLine(Line(Id(i), "2026-10-01T00:00:00Z", "Acme"));
        for (var i = 0; i < count; i++) text.AppendLine(Line(Id(i), "2026-11-01T00:00:00Z", i % moveEvery == 0 ? "Globex" : "Acme, Inc."));
        return text.ToString();
    }
}
