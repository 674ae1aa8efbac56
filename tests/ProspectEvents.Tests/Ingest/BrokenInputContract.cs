using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ProspectEvents.Server.Http;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Ingest.BulkInput;

namespace ProspectEvents.Tests.Ingest;

/// <summary>
/// An input that breaks off (a gzip stream cut or corrupt, a body cut short, a read error) stops the ingest and says so:
/// HTTP answers 422 and the verb exits 3, both with the counts of the batches committed before the break, which stay.
/// Never 200 or exit 0 for an input that did not end cleanly, never a 500. Once per backend.
/// </summary>
public abstract class BrokenInputContract(Backend backend) : IAsyncLifetime
{
    // The server logs each request once it is done with it, at Information: a test can wait for that instead of a while.
    private readonly LogCapture _logs = new() { MinimumLevel = LogLevel.Information };
    private ServerUnderTest _server = null!;

    public async Task InitializeAsync() => _server = await ServerUnderTest.StartAsync(backend, new Dictionary<string, string?>
    {
        [$"Logging:LogLevel:{typeof(CorrelationMiddleware).FullName}"] = "Information",
    }, builder => builder.Logging.AddProvider(_logs));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private const int Lines = 12_000, Batch = 5_000;

    /// <summary>12,000 lines, line 3 not JSON.</summary>
    private static readonly byte[] Plain = Join(FeedLines(Lines).Select((line, i) => i == 2 ? Utf8("{not json") : line));

    private static readonly byte[] Gzipped = Gzip(Plain);

    /// <summary>What an ingest of a gzip cut after <paramref name="bytes"/> bytes takes: the whole batches before the cut.</summary>
    private static (byte[] Input, long Taken, long Rejected) CutAfter(int bytes)
    {
        var input = Gzipped[..bytes];
        var decodable = LinesIn(input);
        var rejected = decodable >= 3 ? 1 : 0; // line 3
        var good = decodable - rejected;
        // The ingest may decode up to 64 KiB (about 440 lines) less than GZipStream: cuts far enough from a batch end.
        Assert.True(good == 0 || good % Batch is > 600 and < Batch - 100, $"a cut after {bytes} bytes leaves {decodable} lines: too near a batch end");
        return (input, good / Batch * Batch, rejected);
    }

    /// <summary>Inside the header, early, in the middle, late, and inside the trailer (CRC-32 and length).</summary>
    private static int[] CutPoints => [10, Gzipped.Length / 5, Gzipped.Length * 3 / 5, Gzipped.Length * 14 / 15, Gzipped.Length - 4];

    private static void AssertStopped(JsonElement summary, long taken, long rejected, string problem)
    {
        Assert.True(summary.GetProperty("observations").GetInt64() == taken, $"expected {taken} observations taken: {summary}");
        Assert.Equal(rejected, summary.GetProperty("rejected").GetInt64());
        var error = summary.GetProperty("error").GetString()!;
        Assert.Contains(problem, error);
        var line = summary.GetProperty("error_line").GetInt64();
        Assert.InRange(line, Math.Max(taken, 1), Lines + 1);
        Assert.StartsWith($"the input broke off at line {line}: ", error);
    }

    [Fact]
    public async Task AGzipStreamCutAtAnyPointAnswers422WithTheCountsOfTheBatchesTakenBeforeTheCut()
    {
        foreach (var cut in CutPoints)
        {
            var (input, taken, rejected) = CutAfter(cut);

            var (status, body) = await _server.PostAsync(input);

            Assert.True(status == 422, $"a gzip cut after {cut} of {Gzipped.Length} bytes answered {status}: {body}");
            AssertStopped(body, taken, rejected, "the gzip stream is truncated");
            Assert.Equal("failure", body.GetProperty("response_context").GetProperty("request_status").GetString());
            var detail = Assert.Single(body.GetProperty("detail").EnumerateArray()); // as in every 422
            Assert.Equal(("input_broken", body.GetProperty("error").GetString()), (detail.GetProperty("type").GetString(), detail.GetProperty("msg").GetString()));
            Assert.Equal("""["body"]""", detail.GetProperty("loc").GetRawText());
        }
    }

    [Fact]
    public async Task AGzipStreamCutAtAnyPointMakesTheVerbExitThreeWithOneErrorLineAndTheCountsOfTheBatchesTakenBeforeTheCut()
    {
        foreach (var cut in CutPoints)
        {
            var (input, taken, rejected) = CutAfter(cut);

            var (exit, summary, error) = await _server.VerbAsync(input, ".ndjson.gz");

            Assert.True(exit == 3, $"a gzip cut after {cut} bytes exited {exit}: {error}");
            AssertStopped(summary!.Value, taken, rejected, "the gzip stream is truncated");
            var line = Assert.Single(ErrorLines(error));
            Assert.StartsWith($"error: {summary.Value.GetProperty("error").GetString()}; the ingest stopped there, with the {taken} observations before it taken", line);
        }
    }

    [Fact]
    public async Task ACorruptGzipStreamAnswers422AndMakesTheVerbExitThree()
    {
        static byte[] Flipped(int at, byte bits)
        {
            var input = (byte[])Gzipped.Clone();
            input[at] ^= bits;
            return input;
        }
        // The CRC-32 of the trailer: every line decodes, the check at the end fails, the last batch is left out.
        var crc = Flipped(Gzipped.Length - 8, 0x01);
        // The compression method of the header: nothing decodes.
        var method = Flipped(2, 0x01);
        // The middle of the compressed data: decoding fails there, or the check at the end does.
        var middle = Flipped(Gzipped.Length / 2, 0x10);

        foreach (var (input, taken, rejected) in new[] { (crc, 2L * Batch, 1L), (method, 0, 0) })
        {
            var (status, body) = await _server.PostAsync(input);
            Assert.Equal(422, status);
            AssertStopped(body, taken, rejected, "the gzip stream is corrupt");

            var (exit, summary, error) = await _server.VerbAsync(input, ".ndjson.gz");
            Assert.Equal(3, exit);
            AssertStopped(summary!.Value, taken, rejected, "the gzip stream is corrupt");
            Assert.Single(ErrorLines(error));
        }
        Assert.Contains("checksum", (await _server.PostAsync(crc)).Body.GetProperty("error").GetString());

        var (middleStatus, middleBody) = await _server.PostAsync(middle);
        Assert.Equal(422, middleStatus);
        Assert.Contains("the gzip stream is corrupt", middleBody.GetProperty("error").GetString());
        Assert.Contains(middleBody.GetProperty("observations").GetInt64(), new long[] { 0, Batch, 2 * Batch });
        Assert.Equal(3, (await _server.VerbAsync(middle, ".ndjson.gz")).ExitCode);
    }

    [Fact]
    public async Task ConcatenatedGzipMembersAreTakenWholeOverHttpAndByTheVerb()
    {
        // Members split mid-line: cat a.gz b.gz c.gz
        var input = Gzip(Plain[..1_000_000]).Concat(Gzip(Plain[1_000_000..1_000_123])).Concat(Gzip(Plain[1_000_123..])).ToArray();

        var (status, body) = await _server.PostAsync(input);
        var (exit, summary, error) = await _server.VerbAsync(input, ".ndjson.gz");

        Assert.Equal(200, status);
        Assert.Equal(Lines - 1, body.GetProperty("observations").GetInt64());
        Assert.Equal(3, body.GetProperty("rejected_lines").EnumerateArray().Single().GetProperty("line").GetInt64());
        Assert.False(body.TryGetProperty("error", out _));
        Assert.Equal(0, exit);
        Assert.Equal(Lines - 1, summary!.Value.GetProperty("observations").GetInt64());
        Assert.Empty(ErrorLines(error));
    }

    /// <summary>Sends the head of a request and <paramref name="body"/> over a raw connection; what came back before it closed.</summary>
    private async Task<string> SendRawAsync(string head, byte[] body, Func<Socket, Task> end)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(_server.Address.Host, _server.Address.Port);
        await socket.SendAsync(Utf8($"POST /v1/admin/observations HTTP/1.1\r\nHost: {_server.Address.Authority}\r\napi_key: {_server.AdminKey}\r\n{head}\r\n"));
        await socket.SendAsync(body);
        await end(socket);
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, timeout.Token)) > 0) received.Write(buffer, 0, read);
        }
        catch (SocketException)
        {
            // reset by the server: what came before is the answer
        }
        return Encoding.UTF8.GetString(received.ToArray());
    }

    [Fact]
    public async Task AChunkedBodyWhoseFramingBreaksOffMidStreamAnswers422WithTheBatchesTakenBeforeIt()
    {
        var sent = Plain[..1_300_000]; // about 8,200 lines
        var answer = await SendRawAsync("Transfer-Encoding: chunked\r\n", [.. Utf8($"{sent.Length:x}\r\n"), .. sent, .. Utf8("\r\nzz\r\n")], _ => Task.CompletedTask);

        Assert.StartsWith("HTTP/1.1 422 ", answer);
        var body = JsonDocument.Parse(answer[answer.IndexOf('{')..answer.LastIndexOf('}')].Split("\r\n")[0] + "}").RootElement;
        Assert.Equal(Batch, body.GetProperty("observations").GetInt64());
        Assert.Contains("the request body broke off", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task ABodyCutShortOfItsContentLengthStopsTheIngestAndKeepsOnlyTheBatchesCommittedBeforeTheCut()
    {
        var sent = Plain[..1_300_000]; // about 8,200 lines: one batch commits, the next is being filled
        var answer = await SendRawAsync($"Content-Length: {Plain.Length}\r\n", sent, async socket =>
        {
            // Wait until the server has read what was sent (its first batch is committed), then go away.
            for (var waited = 0; waited < 300 && await StatesAsync() < Batch; waited++) await Task.Delay(100);
            await Task.Delay(300);
            socket.Shutdown(SocketShutdown.Send);
        });

        // The server cannot answer a client that went away (Kestrel closes a connection whose client has shut down its
        // side); it never answers it as a whole input, nor with a 500.
        Assert.True(answer.Length == 0 || answer.StartsWith("HTTP/1.1 422 ", StringComparison.Ordinal), answer);
        await WaitUntilFinishedAsync("POST /v1/admin/observations");
        Assert.Equal(Batch, await StatesAsync()); // the batch being filled at the cut was left out
        var (status, _) = await _server.PostAsync(Plain);
        Assert.Equal(200, status); // and the server goes on
    }

    /// <summary>Waits until the server logged a request as finished: nothing it was ingesting can be committed after that.</summary>
    private async Task WaitUntilFinishedAsync(string methodAndPath)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!_logs.Drain().Any(e => e.EventId.Id == 1 && e.Message.StartsWith($"HTTP {methodAndPath} responded", StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"The server did not finish {methodAndPath} within 30 s");
            await Task.Delay(20);
        }
    }

    private async Task<long> StatesAsync() => Convert.ToInt64(await _server.SqlAsync("SELECT COUNT(*) FROM prospect_states"), System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task AReadErrorMakesTheVerbExitThreeWithOneLineNamingIt()
    {
        // Reading /proc/self/mem from offset 0 fails with EIO: a real read error.
        var (exit, summary, error) = await ServerUnderTest.RunVerbAsync(["ingest", "/proc/self/mem", .. _server.Storage.Arguments()]);

        Assert.Equal(3, exit);
        AssertStopped(summary!.Value, 0, 0, "reading the input failed");
        Assert.Single(ErrorLines(error));
    }

    [Fact]
    public async Task TheVerbProcessOnATruncatedGzipExitsThreeAndPrintsTheSummaryOnStdout()
    {
        var (input, taken, rejected) = CutAfter(Gzipped.Length * 3 / 5);
        var path = await FileAsync(input, ".ndjson.gz");
        try
        {
            var (exit, output, error, _) = await VerbProcessAsync(_server.Storage, path);

            Assert.True(exit == 3, $"exit {exit}: {output}\n{error}");
            AssertStopped(JsonDocument.Parse(output).RootElement, taken, rejected, "the gzip stream is truncated");
            Assert.DoesNotContain("Unhandled", error);
            Assert.Single(ErrorLines(error));
        }
        finally
        {
            File.Delete(path);
        }
    }
}

public sealed class SqliteBrokenInputTests() : BrokenInputContract(Backend.Sqlite);

public sealed class PostgresBrokenInputTests() : BrokenInputContract(Backend.Postgres);
