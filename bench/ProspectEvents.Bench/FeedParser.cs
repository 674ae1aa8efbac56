using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;

namespace ProspectEvents.Bench;

/// <summary>One observation line as the feed carries it (docs/api.md, observation lines), all fields as text.</summary>
internal sealed class FeedObservation
{
    public string? ProspectId { get; set; }
    public string? ObservedAt { get; set; }
    public string? FullName { get; set; }
    public string? JobTitle { get; set; }
    public string? JobDepartment { get; set; }
    public string? JobSeniorityLevel { get; set; }
    public string? CompanyId { get; set; }
    public string? CompanyName { get; set; }
    public string? CompanyDomain { get; set; }
    public string? JobStartDate { get; set; }
    public string? LinkedinUrl { get; set; }
}

/// <summary>
/// Hidden `parse-feed` verb: the parse-only baseline of the ingest benchmark. Reads the same files as the
/// ingest (gzip sniffed), splits lines on bytes and turns each line into a <see cref="FeedObservation"/> with
/// source-generated System.Text.Json straight from the UTF-8 bytes (or, with --mode walk, only walks the
/// tokens with Utf8JsonReader). No validation, no detection, no storage. Prints one `RESULT {json}` line.
/// </summary>
internal static class FeedParser
{
    public static int Run(ParseFeedOptions o)
    {
        var files = new List<ParsedFile>();
        long checksum = 0;
        var total = Stopwatch.StartNew();
        foreach (string path in o.Files)
        {
            var sw = Stopwatch.StartNew();
            var (lines, bytes, failed, sum) = ParseFile(path, o.TokenWalk);
            checksum += sum;
            double s = sw.Elapsed.TotalSeconds;
            files.Add(new ParsedFile { File = Path.GetFileName(path), Lines = lines, Bytes = bytes, Failed = failed, Seconds = Math.Round(s, 4) });
            Console.Error.WriteLine($"{Path.GetFileName(path)}: {lines:N0} lines in {s:F2}s = {lines / s:N0}/s ({bytes / s / 1e6:F0} MB/s), {failed} unparsable");
        }

        var result = new ParseResult
        {
            Mode = o.TokenWalk ? "utf8jsonreader-walk" : "stj-sourcegen",
            Files = files,
            Lines = files.Sum(f => f.Lines),
            Seconds = Math.Round(total.Elapsed.TotalSeconds, 4),
            Checksum = checksum,
        };
        Console.WriteLine("RESULT " + JsonSerializer.Serialize(result, IngestJsonContext.Default.ParseResult).ReplaceLineEndings(" "));
        return 0;
    }

    private static (long Lines, long Bytes, long Failed, long Checksum) ParseFile(string path, bool walk)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        Span<byte> magic = stackalloc byte[2];
        int got = fs.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        fs.Position = 0;
        using Stream input = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b ? new GZipStream(fs, CompressionMode.Decompress, leaveOpen: true) : fs;

        byte[] buffer = new byte[1 << 20];
        int start = 0, end = 0;
        long lines = 0, bytes = 0, failed = 0, checksum = 0;
        while (true)
        {
            if (end == buffer.Length)
            {
                if (start == 0)
                {
                    Array.Resize(ref buffer, buffer.Length * 2); // a line longer than the buffer
                }
                else
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    start = 0;
                }
            }

            int n = input.Read(buffer, end, buffer.Length - end);
            if (n == 0)
            {
                if (end > start)
                {
                    Line(buffer.AsSpan(start, end - start));
                }

                break;
            }

            bytes += n;
            end += n;
            while (true)
            {
                int nl = buffer.AsSpan(start, end - start).IndexOf((byte)'\n');
                if (nl < 0)
                {
                    break;
                }

                Line(buffer.AsSpan(start, nl));
                start += nl + 1;
            }
        }

        return (lines, bytes, failed, checksum);

        void Line(ReadOnlySpan<byte> line)
        {
            if (line.IsEmpty)
            {
                return;
            }

            lines++;
            try
            {
                if (walk)
                {
                    var reader = new Utf8JsonReader(line);
                    while (reader.Read())
                    {
                        if (reader.TokenType == JsonTokenType.String)
                        {
                            checksum += reader.ValueSpan.Length;
                        }
                    }
                }
                else
                {
                    var o = JsonSerializer.Deserialize(line, FeedJsonContext.Default.FeedObservation);
                    checksum += (o?.ProspectId?.Length ?? 0) + (o?.JobTitle?.Length ?? 0);
                }
            }
            catch (JsonException)
            {
                failed++;
            }
        }
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(FeedObservation))]
internal sealed partial class FeedJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
