using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using ProspectEvents.Storage;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Ingest;

/// <summary>
/// Inputs as bytes for the bulk-input tests (bad text, over-long lines, CSV, broken streams), posted over HTTP as they
/// are, or written to a file for the <c>ingest</c> verb: in this process, or as a real process whose memory is watched.
/// </summary>
internal static partial class BulkInput
{
    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Lines 1..<paramref name="count"/> of a feed, line n about prospect n, at Acme.</summary>
    public static List<byte[]> FeedLines(int count, string observedAt = "2026-10-01T00:00:00Z") =>
        [.. Enumerable.Range(1, count).Select(n => Utf8(Feed.Line(Feed.Id(n), observedAt, "Acme")))];

    /// <summary>The lines, each ended by a line feed.</summary>
    public static byte[] Join(IEnumerable<byte[]> lines)
    {
        var joined = new MemoryStream();
        foreach (var line in lines)
        {
            joined.Write(line);
            joined.WriteByte((byte)'\n');
        }
        return joined.ToArray();
    }

    /// <summary><paramref name="line"/> with its first <paramref name="find"/> replaced by raw bytes.</summary>
    public static byte[] Splice(byte[] line, string find, byte[] replacement)
    {
        var at = line.AsSpan().IndexOf(Utf8(find));
        Assert.True(at >= 0, $"'{find}' is not in the line");
        return [.. line.AsSpan(0, at), .. replacement, .. line.AsSpan(at + Utf8(find).Length)];
    }

    public static byte[] Splice(byte[] line, string find, string replacement) => Splice(line, find, Utf8(replacement));

    public static byte[] Gzip(byte[] data)
    {
        var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) gzip.Write(data);
        return compressed.ToArray();
    }

    /// <summary>
    /// The complete lines a gzip prefix holds, as .NET's GZipStream decodes it (silently stopping at a cut). The ingest
    /// decodes as far, less at most its last read of 64 KiB.
    /// </summary>
    public static int LinesIn(byte[] gzipPrefix)
    {
        using var gzip = new GZipStream(new MemoryStream(gzipPrefix), CompressionMode.Decompress);
        var decoded = new MemoryStream();
        try
        {
            gzip.CopyTo(decoded);
        }
        catch (InvalidDataException)
        {
            // what was decoded before the damage is what counts
        }
        return decoded.ToArray().Count(b => b == '\n');
    }

    /// <summary>Posts <paramref name="body"/> as it is with the admin key; the status and the JSON answer.</summary>
    public static async Task<(int Status, JsonElement Body)> PostAsync(this ServerUnderTest server, byte[] body)
    {
        using var admin = server.Client(server.AdminKey);
        var response = await admin.PostAsync("/v1/admin/observations", new ByteArrayContent(body));
        return ((int)response.StatusCode, await response.JsonAsync());
    }

    public static async Task<string> FileAsync(byte[] content, string extension)
    {
        var path = Path.Combine(Path.GetTempPath(), $"bulk-{Guid.NewGuid():N}{extension}");
        await File.WriteAllBytesAsync(path, content);
        return path;
    }

    /// <summary>Runs the <c>ingest</c> verb (in this process) on <paramref name="content"/> written to a file.</summary>
    public static async Task<(int ExitCode, JsonElement? Summary, string Error)> VerbAsync(this ServerUnderTest server, byte[] content, string extension, params string[] settings)
    {
        var path = await FileAsync(content, extension);
        try
        {
            return await ServerUnderTest.RunVerbAsync(["ingest", path, .. server.Storage.Arguments(), .. settings]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>What the verb wrote to stderr besides its progress line and the rejected lines it lists.</summary>
    public static string[] ErrorLines(string stderr) =>
        [.. stderr.Split('\n').Select(l => l.Split('\r')[^1].Trim())
            .Where(l => l.Length > 0 && !ProgressLine().IsMatch(l) && !l.StartsWith("line ", StringComparison.Ordinal) && !l.StartsWith("... and", StringComparison.Ordinal))];

    [System.Text.RegularExpressions.GeneratedRegex(@"^[0-9,]+ rows, [0-9,]+/s, [0-9,]+ events, [0-9,]+ rejected$")]
    private static partial System.Text.RegularExpressions.Regex ProgressLine();

    /// <summary>Starts the server's <c>ingest</c> verb on <paramref name="path"/> as a process of its own, stdout and stderr redirected.</summary>
    public static Process StartIngestVerb(StorageOptions storage, string path)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "ProspectEvents.Server.dll"), "ingest", path }) start.ArgumentList.Add(arg);
        start.Environment["Storage__Provider"] = storage.Provider;
        start.Environment["Storage__ConnectionString"] = storage.ConnectionString;
        return Process.Start(start)!;
    }

    /// <summary>
    /// Runs the real executable's <c>ingest</c> verb on <paramref name="path"/> and samples its peak resident set (VmHWM,
    /// a high-water mark the kernel keeps) every few milliseconds until it exits.
    /// </summary>
    public static async Task<(int ExitCode, string Output, string Error, long PeakRssBytes)> VerbProcessAsync(StorageOptions storage, string path)
    {
        using var process = StartIngestVerb(storage, path);
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        long peak = 0;
        var deadline = Stopwatch.StartNew();
        while (!process.HasExited && deadline.Elapsed < TimeSpan.FromMinutes(2))
        {
            peak = Math.Max(peak, PeakRss(process.Id));
            await Task.Delay(5);
        }
        if (!process.HasExited) process.Kill();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await errors, peak);
    }

    private static long PeakRss(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return 0; // it has just exited
        }
    }
}
