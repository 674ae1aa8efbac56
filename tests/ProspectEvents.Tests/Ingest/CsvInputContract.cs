using System.Text.Json;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Ingest.BulkInput;

namespace ProspectEvents.Tests.Ingest;

/// <summary>
/// CSV per RFC 4180: quoted commas, doubled quotes and quoted line breaks (a record spanning lines, numbered by its first);
/// a quote that never closes rejects its record, and the lines after it are read again as records of their own. Over
/// HTTP and by the verb, once per backend.
/// </summary>
public abstract class CsvInputContract(Backend backend) : IAsyncLifetime
{
    private ServerUnderTest _server = null!;

    public async Task InitializeAsync() => _server = await ServerUnderTest.StartAsync(backend);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private const string Fay = "6f0c1a9e2b3d4c5e6f708192a3b4c5d6e7f80912", Gus = "7a1b2c3d4e5f60718293a4b5c6d7e8f901234567";

    /// <summary>Eleven lines, nine records: two span lines, one is rejected after them, two change companies.</summary>
    private static readonly byte[] QuotingFeed = Utf8(
        "prospect_id,observed_at,job_title,company_name,notes\n" // 1
        + $"{Feed.Dana},2026-10-01T00:00:00Z,\"VP, Sales\",\"Acme \"\"The Best\"\" Corp\",x\n" // 2
        + $"{Feed.Eli},2026-10-01T00:00:00Z,\"Head of\nSales\",Globex,\"a note\nover two lines\"\n" // 3-5
        + $"{Feed.Dana},2026-11-01T00:00:00Z,\"VP, Sales\",Initech,y\n" // 6
        + "not-an-id,2026-11-01T00:00:00Z,VP,Acme,z\n" // 7
        + $"{Feed.Eli},2026-11-01T00:00:00Z,\"Head of\r\nSales\",Hooli,\"\"\n" // 8-9
        + $"\"{Fay}\",\"2026-11-01T00:00:00Z\",\"CTO\",\"Hooli\",\n" // 10: every field quoted, the last empty
        + $"{Gus},2026-11-01T00:00:00Z,CTO,Hooli\r\n"); // 11: CR LF

    private async Task AssertQuotingReadAsync(JsonElement summary, long rejectedLine)
    {
        Assert.Equal(6, summary.GetProperty("observations").GetInt64());
        Assert.Equal(1, summary.GetProperty("rejected").GetInt64());
        Assert.Equal(7, rejectedLine);
        Assert.Equal(2, summary.GetProperty("events").GetInt64());

        var events = await _server.Store.FetchEventsAsync([Feed.Dana, Feed.Eli], ["prospect_changed_company"], DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, CancellationToken.None);
        var data = events.ToDictionary(e => e.ProspectId, e => JsonDocument.Parse(e.Data).RootElement);
        Assert.Equal("Acme \"The Best\" Corp", data[Feed.Dana].GetProperty("previous_company_name").GetString());
        Assert.Equal("VP, Sales", data[Feed.Dana].GetProperty("current_job_title").GetString());
        Assert.Equal("Globex", data[Feed.Eli].GetProperty("previous_company_name").GetString());
        Assert.Equal("Head of\nSales", data[Feed.Eli].GetProperty("previous_job_title").GetString());
    }

    [Fact]
    public async Task QuotedCommasDoubledQuotesAndLineBreaksPostedOverHttpAreOneFieldEachAndRecordsAreNumberedByTheirFirstLine()
    {
        var (status, body) = await _server.PostAsync(QuotingFeed);

        Assert.Equal(200, status);
        await AssertQuotingReadAsync(body, body.GetProperty("rejected_lines")[0].GetProperty("line").GetInt64());
    }

    [Fact]
    public async Task QuotedCommasDoubledQuotesAndLineBreaksReadByTheVerbAreOneFieldEachAndRecordsAreNumberedByTheirFirstLine()
    {
        var (exit, summary, error) = await _server.VerbAsync(QuotingFeed, ".csv");

        Assert.Equal(0, exit);
        Assert.Contains("line 7: prospect_id must be 40 hex characters", error);
        await AssertQuotingReadAsync(summary!.Value, 7);
    }

    /// <summary>
    /// Line 4's quote never closes: read as a value it would make "VP Sales,Acme" Dana's title (a false role change).
    /// Line 6's quote would close it, followed by text. Lines 9 and 10 misplace quotes; line 11's quote is open at the end.
    /// </summary>
    private static readonly byte[] StrayQuotesFeed = Utf8(
        "prospect_id,observed_at,job_title,company_name\n" // 1
        + $"{Feed.Dana},2026-10-01T00:00:00Z,VP Sales,Acme\n" // 2
        + $"{Feed.Eli},2026-10-01T00:00:00Z,CTO,Globex\n" // 3
        + $"{Feed.Dana},2026-11-01T00:00:00Z,\"VP Sales,Acme\n" // 4
        + $"{Feed.Eli},2026-11-01T00:00:00Z,CTO,Initech\n" // 5: a real company change
        + $"{Fay},2026-11-01T00:00:00Z,CTO,\"Hooli\"\n" // 6
        + $"{Gus},2026-11-01T00:00:00Z,CTO,Hooli\n" // 7
        + $"{Gus},2026-11-02T00:00:00Z,CTO,Hooli\n" // 8
        + $"{Fay},2026-11-02T00:00:00Z,CTO,Hoo\"li\n" // 9
        + $"{Fay},2026-11-03T00:00:00Z,CTO,\"Hooli\"x\n" // 10
        + $"{Feed.Dana},2026-12-01T00:00:00Z,VP Sales,\"Acme\n"); // 11

    private static readonly long[] StrayQuoteLines = [4, 9, 10, 11];

    private static void AssertStrayQuotesRejected(JsonElement summary)
    {
        Assert.Equal(6, summary.GetProperty("observations").GetInt64());
        Assert.Equal(StrayQuoteLines.Length, summary.GetProperty("rejected").GetInt64());
        Assert.Equal(1, summary.GetProperty("events").GetInt64()); // Eli's move, and no false one for Dana
    }

    [Fact]
    public async Task AnUnterminatedQuotePostedOverHttpRejectsItsRecordAndTheLinesAfterItAreReadAsRecordsOfTheirOwn()
    {
        var (status, body) = await _server.PostAsync(StrayQuotesFeed);

        Assert.Equal(200, status);
        AssertStrayQuotesRejected(body);
        var rejected = body.GetProperty("rejected_lines").EnumerateArray().ToList();
        Assert.Equal(StrayQuoteLines, rejected.Select(r => r.GetProperty("line").GetInt64()));
        Assert.StartsWith("unterminated quote", rejected[0].GetProperty("error").GetString());
        Assert.StartsWith("a quote (\") inside an unquoted field", rejected[1].GetProperty("error").GetString());
        Assert.StartsWith("text after a closing quote", rejected[2].GetProperty("error").GetString());
        Assert.StartsWith("unterminated quote", rejected[3].GetProperty("error").GetString());
        var events = await _server.Store.FetchEventsAsync([Feed.Dana, Feed.Eli], ["prospect_changed_role", "prospect_changed_company"], DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, CancellationToken.None);
        Assert.Equal([Feed.Eli], events.Select(e => e.ProspectId));
    }

    [Fact]
    public async Task AnUnterminatedQuoteReadByTheVerbRejectsItsRecordAndTheLinesAfterItAreReadAsRecordsOfTheirOwn()
    {
        var (exit, summary, error) = await _server.VerbAsync(StrayQuotesFeed, ".csv");

        Assert.Equal(0, exit);
        AssertStrayQuotesRejected(summary!.Value);
        Assert.Contains("line 4: unterminated quote", error);
        Assert.Contains("line 11: unterminated quote", error);
    }

    [Fact]
    public async Task AQuoteThatDoesNotCloseWithinMaxLineBytesRejectsOnlyItsFirstLine()
    {
        await using var limited = await ServerUnderTest.StartBesideAsync(_server, new Dictionary<string, string?> { ["Ingest:MaxLineBytes"] = "1000" });
        var rows = string.Concat(Enumerable.Range(1, 40).Select(n => $"{Feed.Id(n)},2026-10-01T00:00:00Z,CTO,Hooli\n")); // 3,000 bytes, no quote

        var (status, body) = await limited.PostAsync(Utf8($"prospect_id,observed_at,job_title,company_name\n{Feed.Dana},2026-10-01T00:00:00Z,\"CTO,Acme\n{rows}"));

        Assert.Equal(200, status);
        Assert.Equal(40, body.GetProperty("observations").GetInt64());
        Assert.Equal(2, body.GetProperty("rejected_lines").EnumerateArray().Single().GetProperty("line").GetInt64());
    }

    [Fact]
    public async Task AByteOrderMarkBeforeTheFirstLineIsNotPartOfItInCsvAndInNdjson()
    {
        byte[] bom = [0xEF, 0xBB, 0xBF];

        var (csvStatus, csv) = await _server.PostAsync([.. bom, .. Utf8($"prospect_id,observed_at\n{Feed.Dana},2026-10-01T00:00:00Z\n")]);
        var (ndjsonStatus, ndjson) = await _server.PostAsync([.. bom, .. Utf8(Feed.Lines(Feed.Line(Feed.Eli, "2026-10-01T00:00:00Z", "Acme")))]);

        Assert.Equal((200, 200), (csvStatus, ndjsonStatus));
        Assert.Equal((1, 0), (csv.GetProperty("observations").GetInt64(), csv.GetProperty("rejected").GetInt64()));
        Assert.Equal((1, 0), (ndjson.GetProperty("observations").GetInt64(), ndjson.GetProperty("rejected").GetInt64()));
    }
}

public sealed class SqliteCsvInputTests() : CsvInputContract(Backend.Sqlite);

public sealed class PostgresCsvInputTests() : CsvInputContract(Backend.Postgres);
