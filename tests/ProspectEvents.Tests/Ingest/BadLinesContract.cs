using System.Text;
using System.Text.Json;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Ingest.BulkInput;

namespace ProspectEvents.Tests.Ingest;

/// <summary>
/// A bad line is rejected with its number and reason, and every other line of the input is taken: lines that are not
/// text (invalid UTF-8, a NUL, a lone surrogate, in any field), over HTTP and by the verb, once per backend.
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
}

public sealed class SqliteBadLinesTests() : BadLinesContract(Backend.Sqlite);

public sealed class PostgresBadLinesTests() : BadLinesContract(Backend.Postgres);
