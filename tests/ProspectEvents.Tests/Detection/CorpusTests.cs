using System.Globalization;
using System.Text;
using ProspectEvents.Detection;
using Xunit.Abstractions;

namespace ProspectEvents.Tests.Detection;

/// <summary>
/// Detection scored on a labelled corpus of restated and really changed jobs (<c>Detection/Corpus/*.tsv</c>): each pair
/// is two snapshots of one prospect, and an event must fire exactly for the pairs labelled <c>change</c>.
/// </summary>
public sealed class CorpusTests(ITestOutputHelper output)
{
    private const double Floor = 0.99;
    private static readonly DateTimeOffset Day1 = new(2026, 1, 1, 8, 0, 0, TimeSpan.Zero);

    public sealed record Pair(int Line, string Kind, bool IsChange, string Before, string After);

    public sealed record Score(int TruePositives, int FalsePositives, int FalseNegatives, int TrueNegatives)
    {
        public double Precision => TruePositives + FalsePositives == 0 ? 1 : (double)TruePositives / (TruePositives + FalsePositives);

        public double Recall => TruePositives + FalseNegatives == 0 ? 1 : (double)TruePositives / (TruePositives + FalseNegatives);
    }

    [Fact]
    public void TitlePairsAreJudgedWithPrecisionAndRecallOfAtLeast099() =>
        AssertScore("title-pairs.tsv", 2_000, pair => Fires(new(pair.Before, "Acme"), new(pair.After, "Acme")));

    [Fact]
    public void CompanyNamePairsAreJudgedWithPrecisionAndRecallOfAtLeast099() =>
        AssertScore("company-pairs.tsv", 1_000, pair => Fires(new("Account Executive", pair.Before), new("Account Executive", pair.After)));

    private void AssertScore(string file, int atLeast, Func<Pair, bool> fires)
    {
        var pairs = Load(file);
        Assert.True(pairs.Count >= atLeast, $"{file} holds {pairs.Count} pairs, fewer than {atLeast}");
        var wrong = pairs.Where(pair => fires(pair) != pair.IsChange).ToList();
        var score = new Score(
            pairs.Count(p => p.IsChange && fires(p)), pairs.Count(p => !p.IsChange && fires(p)),
            pairs.Count(p => p.IsChange && !fires(p)), pairs.Count(p => !p.IsChange && !fires(p)));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{file}: {pairs.Count} pairs ({pairs.Count(p => p.IsChange)} changes), precision {score.Precision:F4}, recall {score.Recall:F4}"));
        foreach (var kind in pairs.GroupBy(p => p.Kind).OrderBy(g => g.Key, StringComparer.Ordinal))
            output.WriteLine($"  {kind.Key}: {kind.Count()} pairs, {kind.Count(p => fires(p) != p.IsChange)} judged wrong");
        var examples = string.Join('\n', wrong.Take(25).Select(p => $"  line {p.Line} [{p.Kind}] {(p.IsChange ? "missed" : "false event")}: '{p.Before}' -> '{p.After}'"));
        Assert.True(score.Precision >= Floor && score.Recall >= Floor,
            string.Create(CultureInfo.InvariantCulture, $"{file}: precision {score.Precision:F4}, recall {score.Recall:F4} (floor {Floor}); {wrong.Count} judged wrong:\n{examples}"));
    }

    private static bool Fires((string Title, string Company) before, (string Title, string Company) after)
    {
        var first = ChangeDetector.Apply(null, Snapshot(1, before)).State;
        return ChangeDetector.Apply(first, Snapshot(2, after)).Event is not null;
    }

    private static Observation Snapshot(int day, (string Title, string Company) job) =>
        new("20ae6cbf564ee683e66685e429844a5ff8ffc30f", Day1.AddDays(day - 1), "Dana Levi", job.Title, CompanyName: job.Company);

    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 20)];

    /// <summary>Every restated pair of the corpus stays equal when one side gets more noise of the kinds folding removes.</summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void AnEqualPairStaysEqualUnderAnyExtraDecorationSpacingCaseOrUnicodeForm(int seed)
    {
        var random = new Random(seed);
        foreach (var pair in Load("title-pairs.tsv").Where(p => !p.IsChange))
        {
            var noisy = Noise.Title(random, pair.After);
            Assert.True(TitleNormalizer.Normalize(pair.Before) == TitleNormalizer.Normalize(noisy),
                $"seed {seed}, title line {pair.Line}: '{pair.Before}' is not '{noisy}' (from '{pair.After}')");
        }
        foreach (var pair in Load("company-pairs.tsv").Where(p => !p.IsChange))
        {
            var noisy = Noise.Name(random, pair.After);
            Assert.True(CompanyNormalizer.Name(pair.Before) == CompanyNormalizer.Name(noisy),
                $"seed {seed}, company line {pair.Line}: '{pair.Before}' is not '{noisy}' (from '{pair.After}')");
        }
    }

    [Fact]
    public void TheCorpusHoldsBothLabelsAndNoPairTwice()
    {
        foreach (var file in new[] { "title-pairs.tsv", "company-pairs.tsv" })
        {
            var pairs = Load(file);
            Assert.Equal(pairs.Count, pairs.Select(p => (p.Before, p.After)).Distinct().Count());
            Assert.InRange(pairs.Count(p => p.IsChange), pairs.Count / 4, pairs.Count * 3 / 4);
        }
    }

    public static List<Pair> Load(string file)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Detection", "Corpus", file);
        var pairs = new List<Pair>();
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            if (++number == 1 || line.Length == 0) continue; // the header
            var fields = line.Split('\t');
            if (fields.Length != 4 || fields[1] is not ("same" or "change"))
                throw new FormatException($"{file} line {number}: expected kind, same|change, before, after split by tabs");
            pairs.Add(new(number, fields[0], fields[1] == "change", Unescape(fields[2]), Unescape(fields[3])));
        }
        return pairs;
    }

    /// <summary>Reads <c>\uXXXX</c>, <c>\UXXXXXXXX</c> and <c>\\</c>, so invisible characters stay visible in the file.</summary>
    public static string Unescape(string field)
    {
        var text = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] != '\\' || i + 1 == field.Length) { text.Append(field[i]); continue; }
            switch (field[i + 1])
            {
                case '\\': text.Append('\\'); i++; break;
                case 'u': text.Append((char)int.Parse(field.AsSpan(i + 2, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture)); i += 5; break;
                case 'U': text.Append(char.ConvertFromUtf32(int.Parse(field.AsSpan(i + 2, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture))); i += 9; break;
                default: text.Append('\\'); break;
            }
        }
        return text.ToString();
    }
}
