using System.Text;
using System.Text.Json;
using ProspectEvents.Server.Hosting;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Ingest.BulkInput;

namespace ProspectEvents.Tests.Ingest;

/// <summary>
/// A bad line is rejected with its number and reason, and every other line of the input is taken: lines that are not
/// text (invalid UTF-8, a NUL, a lone surrogate, in any field) and lines longer than <c>Ingest:MaxLineBytes</c>, over
/// HTTP and by the verb, once per backend.
/// </summary>
public abstract class BadLinesContract(Backend backend) : IAsyncLifetime
{
    private ServerUnderTest _server = null!;

    public async Task InitializeAsync() => _server = await ServerUnderTest.StartAsync(backend);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static readonly long[] BadTextLines = [3, 2_500, 5_000, 5_001, 7_000, 9_000, 11_999];

    /// <summary>12,000 lines: seven hold what no text field may, in known and unknown fields; three hold unusual but valid text.</summary>
    private static byte[] FeedWithBadText()
    {
        var lines = FeedLines(12_000);
        lines[2] = Splice(lines[2], "Acme", [(byte)'A', (byte)'c', 0xFF, (byte)'m', (byte)'e']); // not UTF-8
        lines[2_499] = Splice(lines[2_499], "{", [.. Utf8("{\"vendor_note\":\""), 0xC3, (byte)'(', .. Utf8("\",")]); // a cut sequence, in an unknown field
        lines[4_999] = Splice(lines[4_999], "VP Sales", @"VP \ud800 Sales"); // a lone high surrogate
        lines[5_000] = Splice(lines[5_000], "{", @"{""x_unknown"":""\udc00"","); // a lone low one, in an unknown field
        lines[6_999] = Splice(lines[6_999], "Dana Levi", [.. Utf8("Dana"), 0, .. Utf8(" Levi")]); // a raw NUL
        lines[8_999] = Splice(lines[8_999], "Acme", @"Acme\u0000"); // an escaped one
        lines[11_998] = Splice(lines[11_998], "VP Sales", @"\ud800\u0041"); // a high surrogate not followed by a low one
        lines[3] = Splice(lines[3], "VP Sales", @"VP \ud83d\ude00 Sales"); // a surrogate pair: one character
        lines[5] = Splice(lines[5], "Dana Levi", @"Dana \\ud800 Levi"); // an escaped backslash, then text
        lines[7] = Splice(lines[7], "Dana Levi", "Dana 😀 Lévi"); // raw UTF-8 beyond ASCII
        return Join(lines);
    }

    private static void AssertBadTextRejected(JsonElement summary)
    {
        Assert.Equal(11_993, summary.GetProperty("observations").GetInt64());
        Assert.Equal(7, summary.GetProperty("rejected").GetInt64());
    }

    [Fact]
    public async Task EachLineThatIsNotTextIsRejectedByNumberOverHttpAndEveryOtherLineOfTheFeedIsTaken()
    {
        var (status, body) = await _server.PostAsync(FeedWithBadText());

        Assert.Equal(200, status);
        AssertBadTextRejected(body);
        var rejected = body.GetProperty("rejected_lines").EnumerateArray().ToList();
        Assert.Equal(BadTextLines, rejected.Select(r => r.GetProperty("line").GetInt64()));
        string[] reasons = ["invalid UTF-8 at byte 161", "invalid UTF-8 at byte 17", @"a lone surrogate (\ud800) at byte", @"a lone surrogate (\udc00) at byte 15",
            "a NUL byte at byte", @"a NUL (\u0000) at byte", @"a lone surrogate (\ud800) at byte"];
        Assert.All(reasons.Zip(rejected), pair => Assert.Contains(pair.First, pair.Second.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task EachLineThatIsNotTextIsRejectedByNumberByTheVerbAndEveryOtherLineOfTheFeedIsTaken()
    {
        var (exit, summary, error) = await _server.VerbAsync(FeedWithBadText(), ".ndjson");

        Assert.Equal(0, exit);
        AssertBadTextRejected(summary!.Value);
        Assert.All(BadTextLines, line => Assert.Contains($"line {line}: ", error));
        Assert.Contains("line 7000: a NUL byte at byte", error);
        Assert.Empty(ErrorLines(error));
    }

    /// <summary>A line of exactly <paramref name="bytes"/> bytes, a valid observation of prospect <paramref name="n"/>.</summary>
    private static byte[] LineOf(int bytes, int n)
    {
        var head = Utf8($$"""{"prospect_id":"{{Feed.Id(n)}}","observed_at":"2026-10-01T00:00:00Z","full_name":""" + "\"");
        return [.. head, .. Enumerable.Repeat((byte)'x', bytes - head.Length - 2), .. Utf8("\"}")];
    }

    private const int Limit = 1_000;

    /// <summary>Lines at the limit, one with CR LF, and over it, one at the end of the input without a line break.</summary>
    private static byte[] FeedAroundTheLimit() =>
    [
        .. Join([FeedLines(1)[0], LineOf(Limit, 2), [.. LineOf(Limit, 3), (byte)'\r'], LineOf(Limit + 1, 4), LineOf(50_000, 5), FeedLines(6)[5]]),
        .. LineOf(Limit + 1, 7),
    ];

    private static void AssertLimitKept(JsonElement summary)
    {
        Assert.Equal(4, summary.GetProperty("observations").GetInt64());
        Assert.Equal(3, summary.GetProperty("rejected").GetInt64());
    }

    [Fact]
    public async Task ALineLongerThanMaxLineBytesIsRejectedOverHttpAndALineOfExactlyTheLimitIsTaken()
    {
        await using var limited = await ServerUnderTest.StartBesideAsync(_server, new Dictionary<string, string?> { ["Ingest:MaxLineBytes"] = $"{Limit}" });

        var (status, body) = await limited.PostAsync(FeedAroundTheLimit());

        Assert.Equal(200, status);
        AssertLimitKept(body);
        var rejected = body.GetProperty("rejected_lines").EnumerateArray().ToList();
        Assert.Equal([4L, 5, 7], rejected.Select(r => r.GetProperty("line").GetInt64()));
        Assert.All(rejected, r => Assert.Equal("longer than 1000 bytes (Ingest:MaxLineBytes): skipped", r.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task ALineLongerThanMaxLineBytesIsRejectedByTheVerbAndALineOfExactlyTheLimitIsTaken()
    {
        var (exit, summary, error) = await _server.VerbAsync(FeedAroundTheLimit(), ".ndjson", $"--Ingest:MaxLineBytes={Limit}");

        Assert.Equal(0, exit);
        AssertLimitKept(summary!.Value);
        Assert.Contains("line 5: longer than 1000 bytes (Ingest:MaxLineBytes): skipped", error);
    }

    [Fact]
    public async Task ByDefaultALineOfThreeMebibytesIsRejectedAndTheLinesAroundItAreTaken()
    {
        var lines = FeedLines(3);
        lines[1] = LineOf(3 * 1024 * 1024, 2);

        var (status, body) = await _server.PostAsync(Join(lines));

        Assert.Equal(200, status);
        Assert.Equal(2, body.GetProperty("observations").GetInt64());
        Assert.Equal(2, body.GetProperty("rejected_lines")[0].GetProperty("line").GetInt64());
        Assert.Contains("longer than 1048576 bytes", body.GetProperty("rejected_lines")[0].GetProperty("error").GetString());
    }

    [Fact]
    public async Task AHundredMegabyteLineIsSkippedAsItStreamsCostingTheVerbProcessLessThan64MegabytesMore()
    {
        const int before = 1_000, after = 29_000;
        async Task<string> WriteFeedAsync(long badLineBytes)
        {
            var path = Path.Combine(Path.GetTempPath(), $"bulk-long-{Guid.NewGuid():N}.ndjson");
            await using var file = File.Create(path);
            foreach (var line in FeedLines(before)) await file.WriteAsync((byte[])[.. line, (byte)'\n']);
            await file.WriteAsync(Utf8("{\"full_name\":\""));
            var chunk = Enumerable.Repeat((byte)'x', 1024 * 1024).ToArray();
            for (var written = 0L; written < badLineBytes; written += chunk.Length) await file.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, badLineBytes - written)));
            await file.WriteAsync(Utf8("\"}\n"));
            foreach (var line in Enumerable.Range(before + 1, after).Select(n => Utf8(Feed.Line(Feed.Id(n), "2026-10-01T00:00:00Z", "Acme")))) await file.WriteAsync((byte[])[.. line, (byte)'\n']);
            return path;
        }

        var shortPath = await WriteFeedAsync(100);
        var longPath = await WriteFeedAsync(100L * 1024 * 1024);
        try
        {
            // Each on a fresh database, so both runs do the same work but for the one line.
            var baseline = await VerbProcessAsync(await TestStorage.CreateAsync(backend), shortPath);
            var withLongLine = await VerbProcessAsync(await TestStorage.CreateAsync(backend), longPath);

            foreach (var run in new[] { baseline, withLongLine })
            {
                Assert.True(run.ExitCode == 0, $"ingest exited {run.ExitCode}: {run.Output}\n{run.Error}");
                var summary = JsonDocument.Parse(run.Output).RootElement;
                Assert.Equal(before + after, summary.GetProperty("observations").GetInt64());
                Assert.Equal(1, summary.GetProperty("rejected").GetInt64());
            }
            Assert.Contains($"line {before + 1}: longer than 1048576 bytes", withLongLine.Error);
            Assert.True(baseline.PeakRssBytes > 0, "no memory sample was taken");
            var extra = withLongLine.PeakRssBytes - baseline.PeakRssBytes;
            Assert.True(extra < 64L * 1024 * 1024, $"the 100 MB line cost {extra / 1024 / 1024} MiB more (peak RSS {baseline.PeakRssBytes / 1024 / 1024} -> {withLongLine.PeakRssBytes / 1024 / 1024} MiB)");
        }
        finally
        {
            File.Delete(shortPath);
            File.Delete(longPath);
        }
    }
}

public sealed class SqliteBadLinesTests() : BadLinesContract(Backend.Sqlite);

public sealed class PostgresBadLinesTests() : BadLinesContract(Backend.Postgres);

/// <summary><c>Ingest:MaxLineBytes</c> must be a positive number of bytes: the server does not start, the verb does not run, and both name the key.</summary>
public sealed class IngestSettingsTests
{
    [Fact]
    public async Task ANonPositiveMaxLineBytesStopsTheServerFromStartingAndNamesTheKey()
    {
        var database = Path.Combine(Path.GetTempPath(), "prospect-events-tests", Guid.NewGuid().ToString("N"), "test.db");
        await using var app = ServerApp.Build(["--urls", "http://127.0.0.1:0", $"--Storage:ConnectionString=Data Source={database}", "--Ingest:MaxLineBytes=0"]);

        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Ingest:MaxLineBytes", error.Message);
    }

    [Fact]
    public async Task ANonPositiveMaxLineBytesStopsTheVerbWithExitTwoAndNamesTheKey()
    {
        var path = await FileAsync(Join(FeedLines(1)), ".ndjson");
        var database = Path.Combine(Path.GetTempPath(), "prospect-events-tests", Guid.NewGuid().ToString("N"), "test.db");

        var (exit, summary, error) = await ServerUnderTest.RunVerbAsync(["ingest", path, $"--Storage:ConnectionString=Data Source={database}", "--Ingest:MaxLineBytes=-5"]);

        Assert.Equal(2, exit);
        Assert.Null(summary);
        Assert.Contains("Ingest:MaxLineBytes", error);
        File.Delete(path);
    }
}
