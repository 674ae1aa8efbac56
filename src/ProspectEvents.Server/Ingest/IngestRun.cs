using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using ProspectEvents.Detection;
using ProspectEvents.Server.Telemetry;

namespace ProspectEvents.Server.Ingest;

/// <summary>A rejected input line: its 1-based number and why.</summary>
public sealed record RejectedLine(long Line, string Error);

/// <summary>
/// The outcome of one ingest; <see cref="RejectedLines"/> holds the first <see cref="IngestRun.MaxRejectedListed"/>.
/// <see cref="Error"/> is null when the input ended cleanly; otherwise it says, in one line, how the input broke off
/// (a truncated or corrupt gzip stream, a body cut short, a read error) and at which line, <see cref="ErrorLine"/>: the
/// ingest stopped there, and the counts are those of the batches committed before.
/// </summary>
public sealed record IngestSummary(
    long Observations, long Rejected, long Stale, long Events, double Seconds, IReadOnlyList<RejectedLine> RejectedLines,
    string? Error = null, long? ErrorLine = null);

/// <summary>
/// Streams observations from NDJSON or CSV (either optionally gzipped; the format is sniffed from the first
/// bytes) into batches for the <see cref="IngestEngine"/>, each batch one transaction. Bad lines are rejected with their number;
/// the good lines of the same input are all taken. Shared by the <c>ingest</c> verb and the HTTP endpoint.
/// A line (a CSV record) longer than <see cref="MaxLineBytes"/> is rejected and skipped as it streams: the reader
/// never holds more than that of one. An input that breaks off stops the ingest: the batch being filled is dropped,
/// those handed on before commit, and the summary says what broke (<see cref="IngestSummary.Error"/>).
/// </summary>
public sealed class IngestRun(IngestEngine engine, TimeProvider clock, int batchSize = IngestRun.DefaultBatchSize)
{
    public const int DefaultBatchSize = 5_000;
    public const int MaxRejectedListed = 1_000;

    private List<Observation> _batch = new(batchSize);
    private readonly Queue<Task<IngestCounts>> _inFlight = new();
    private const int MaxInFlight = 2;
    private readonly List<RejectedLine> _rejectedLines = [];
    private readonly Stopwatch _elapsed = new();
    private long _line, _observations, _rejected, _stale, _events;
    private long _rejectedCounted; // of _rejected, those already added to the telemetry counter
    private bool _csvHeaderRead;
    private int[]? _csvColumns;
    private readonly List<CsvRecord.Cell> _cells = [];
    private readonly string?[] _values = new string?[ObservationParser.Fields.Length];
    private bool? _json;
    private bool _skipping; // inside an over-long line: its bytes are dropped up to its line break
    private long _scanned; // bytes of the pending NDJSON line already searched for its line break
    private byte[] _copy = []; // a line that straddles two buffer segments, copied out
    private string? _error;
    private long? _errorLine;

    /// <summary>The longest line (CSV record) taken, in bytes, without its line break (<c>Ingest:MaxLineBytes</c>).</summary>
    public int MaxLineBytes { get; init; } = IngestOptions.DefaultMaxLineBytes;

    /// <summary>Called about once a second while running, and once at the end.</summary>
    public Action<IngestSummary>? Progress { get; init; }

    public async Task<IngestSummary> RunAsync(Stream input, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxLineBytes, 1);
        _elapsed.Start();
        try
        {
            // A broken input leaves the batch being filled behind: the ingest stops where it broke.
            if (await ReadAllAsync(input, cancellationToken)) await FlushAsync(cancellationToken);
            while (_inFlight.Count > 0) await CollectAsync();
        }
        catch
        {
            CountRejected();
            // Whatever failed, no batch may still be writing once the caller hears of it (the verb disposes the
            // store next, and an HTTP client must not see an error while later batches go on committing).
            foreach (var writing in _inFlight)
            {
                try
                {
                    await writing;
                }
                catch (Exception)
                {
                    // A later batch fails for the same reason, or because the earlier one did: one error is reported.
                }
            }
            throw;
        }
        CountRejected();
        var summary = Summary();
        Progress?.Invoke(summary);
        return summary;
    }

    /// <summary>Reads and takes every record; false when the input broke off (<see cref="_error"/> says how).</summary>
    private async Task<bool> ReadAllAsync(Stream input, CancellationToken cancellationToken)
    {
        var lastProgress = TimeSpan.Zero;
        var reader = PipeReader.Create(input, ReadOptions);
        GzipInput? gzip = null;
        var drained = false;
        try
        {
            try
            {
                var start = await reader.ReadAtLeastAsync(2, cancellationToken);
                var sniffed = start.Buffer.Slice(0, Math.Min(2, start.Buffer.Length)).ToArray() is [0x1f, 0x8b];
                reader.AdvanceTo(start.Buffer.Start); // nothing consumed
                if (sniffed)
                {
                    gzip = new GzipInput(reader, MaxLineBytes + 2L);
                    reader = gzip.Reader;
                }
            }
            catch (Exception e) when (IsInputFailure(e, cancellationToken))
            {
                return Broke(e);
            }
            while (true)
            {
                ReadResult result;
                try
                {
                    result = await reader.ReadAsync(cancellationToken);
                }
                catch (Exception e) when (IsInputFailure(e, cancellationToken))
                {
                    return Broke(e);
                }
                var buffer = result.Buffer;
                // Past a break, only the records complete before it count: the bytes after the last of them are a cut.
                var broken = result.IsCompleted ? gzip?.Error : null;
                var final = result.IsCompleted && broken is null;
                while (TakeNext(ref buffer, final))
                {
                    if (_batch.Count >= batchSize) await FlushAsync(cancellationToken);
                }
                if (result.IsCompleted)
                {
                    drained = true;
                    return broken is null || Broke(broken);
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (Progress is not null && _elapsed.Elapsed - lastProgress > TimeSpan.FromSeconds(1))
                {
                    lastProgress = _elapsed.Elapsed;
                    Progress(Summary());
                }
            }
        }
        finally
        {
            await reader.CompleteAsync();
            if (drained && gzip is not null) await gzip.Done;
        }
    }

    /// <summary>
    /// The input's own failures: a gzip stream truncated or corrupt, a body cut short, a read error. The store's
    /// failures, and this ingest's cancellation, are not.
    /// </summary>
    private static bool IsInputFailure(Exception e, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && e is IOException or InvalidDataException or ICSharpCode.SharpZipLib.SharpZipBaseException or OperationCanceledException;

    private bool Broke(Exception e)
    {
        _errorLine = _line + 1;
        _error = $"the input broke off at line {_errorLine}: {Describe(e)}";
        return false;
    }

    private static string Describe(Exception e) => e switch
    {
        EndOfStreamException or ICSharpCode.SharpZipLib.SharpZipBaseException when e.Message.Contains("EO", StringComparison.Ordinal)
            => "the gzip stream is truncated (it ends inside a member)",
        ICSharpCode.SharpZipLib.GZip.GZipException when e.Message.Contains("crc", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("mismatch", StringComparison.OrdinalIgnoreCase)
            => "the gzip stream is corrupt (its checksum does not match its data)",
        ICSharpCode.SharpZipLib.SharpZipBaseException => $"the gzip stream is corrupt ({OneLine(e.Message)})",
        Microsoft.AspNetCore.Http.BadHttpRequestException => $"the request body broke off ({OneLine(e.Message)})",
        OperationCanceledException => "the connection was closed before the body ended",
        _ => $"reading the input failed ({OneLine(e.Message)})",
    };

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim().TrimEnd('.');

    private IngestSummary Summary() => new(_observations, _rejected, _stale, _events, Math.Round(_elapsed.Elapsed.TotalSeconds, 3), _rejectedLines, _error, _errorLine);

    private string TooLong => $"longer than {MaxLineBytes} bytes (Ingest:MaxLineBytes): skipped";

    /// <summary>
    /// Takes the record at the start of <paramref name="buffer"/> (or drops the next bytes of an over-long line) and
    /// moves past it; false when it needs more input to tell where the record ends.
    /// </summary>
    /// <param name="final">nothing follows <paramref name="buffer"/>: its end ends the last record</param>
    private bool TakeNext(ref ReadOnlySequence<byte> buffer, bool final)
    {
        if (buffer.IsEmpty) return false;
        if (_skipping)
        {
            var end = buffer.PositionOf((byte)'\n');
            if (end is null)
            {
                buffer = buffer.Slice(buffer.End);
                return false;
            }
            buffer = buffer.Slice(buffer.GetPosition(1, end.Value));
            _skipping = false;
            return true;
        }
        if (_json is null)
        {
            // A UTF-8 byte order mark (spreadsheets write one before a CSV header) is not part of the first line.
            if (buffer.Length < 3 && !final) return false;
            if (buffer.Length >= 3 && buffer.Slice(0, 3).ToArray() is [0xEF, 0xBB, 0xBF])
            {
                buffer = buffer.Slice(3);
                if (buffer.IsEmpty) return false;
            }
            // The first line tells the format: a JSON object, or a CSV header.
            var window = buffer.Slice(0, Math.Min(buffer.Length, MaxLineBytes + 2L));
            var end = window.PositionOf((byte)'\n');
            if (end is null && !final && window.Length < MaxLineBytes + 2L) return false;
            _json = IsJson(end is null ? window : window.Slice(0, end.Value));
        }
        return _json.Value ? TakeJsonLine(ref buffer, final) : TakeCsvRecord(ref buffer, final);
    }

    private bool TakeJsonLine(ref ReadOnlySequence<byte> buffer, bool final)
    {
        // A line longer than the limit is known as such from its first MaxLineBytes + 2 bytes (the limit, then CR LF).
        var window = buffer.Length > MaxLineBytes + 2L ? buffer.Slice(0, MaxLineBytes + 2L) : buffer;
        var end = _scanned < window.Length ? window.Slice(_scanned).PositionOf((byte)'\n') : null;
        ReadOnlySequence<byte> line;
        if (end is { } newline)
        {
            line = window.Slice(0, newline);
            buffer = buffer.Slice(buffer.GetPosition(1, newline));
        }
        else if (window.Length == MaxLineBytes + 2L)
        {
            _scanned = 0;
            Reject(++_line, TooLong);
            buffer = buffer.Slice(window.End);
            _skipping = true;
            return true;
        }
        else if (final)
        {
            line = buffer;
            buffer = buffer.Slice(buffer.End);
        }
        else
        {
            _scanned = window.Length;
            return false;
        }
        _scanned = 0;
        _line++;
        var bytes = Contiguous(line);
        if (bytes.Length > 0 && bytes[^1] == '\r') bytes = bytes[..^1];
        if (bytes.Length > MaxLineBytes)
        {
            Reject(_line, TooLong);
        }
        else if (!IsBlank(bytes))
        {
            if (ObservationParser.TryParseJson(bytes, out var observation, out var error)) _batch.Add(observation!);
            else Reject(_line, error!);
        }
        return true;
    }

    private bool TakeCsvRecord(ref ReadOnlySequence<byte> buffer, bool final)
    {
        var scan = CsvRecord.Scan(buffer, MaxLineBytes, final, out var extent);
        if (scan == CsvScan.NeedMore) return false;
        var first = _line + 1;
        _line += extent.Lines;
        var record = buffer.Slice(0, extent.Length);
        switch (scan)
        {
            case CsvScan.Record when extent.Length > MaxLineBytes:
            case CsvScan.TooLong:
                Reject(first, TooLong);
                _skipping = scan == CsvScan.TooLong;
                break;
            case CsvScan.Record:
                TakeCsv(first, Contiguous(record));
                break;
            default:
                Reject(first, extent.Error!);
                break;
        }
        buffer = buffer.Slice(extent.Consumed);
        return true;
    }

    private void TakeCsv(long line, ReadOnlySpan<byte> record)
    {
        if (IsBlank(record)) return;
        var textError = ObservationParser.TextError(record);
        if (_csvColumns is null)
        {
            // The first CSV row is the header. Without the two required columns no row can be read, the header included.
            if (!_csvHeaderRead && textError is null)
            {
                CsvRecord.Split(record, _cells);
                _csvColumns = CsvColumns(record, _cells);
            }
            var header = !_csvHeaderRead && _csvColumns is not null;
            _csvHeaderRead = true;
            if (!header) Reject(line, textError ?? HeaderError);
            return;
        }
        if (textError is not null)
        {
            Reject(line, textError);
            return;
        }
        CsvRecord.Split(record, _cells);
        Array.Clear(_values); // TryBuild copies what it keeps into the observation
        for (var i = 0; i < _csvColumns.Length && i < _cells.Count; i++)
        {
            if (_csvColumns[i] >= 0) _values[_csvColumns[i]] = CsvRecord.Text(record, _cells[i]);
        }
        if (ObservationParser.TryBuild(_values, out var observation, out var error)) _batch.Add(observation!);
        else Reject(line, error!);
    }

    /// <summary>Adds the lines rejected since the last call to the telemetry counter: once a batch, not once a line.</summary>
    private void CountRejected()
    {
        Instruments.ObservationsRejected(_rejected - _rejectedCounted);
        _rejectedCounted = _rejected;
    }

    private void Reject(long line, string error)
    {
        _rejected++;
        if (_rejectedLines.Count < MaxRejectedListed) _rejectedLines.Add(new RejectedLine(line, error));
    }

    /// <summary>The bytes of <paramref name="part"/> in one span: a copy only when it straddles buffer segments.</summary>
    private ReadOnlySpan<byte> Contiguous(in ReadOnlySequence<byte> part)
    {
        if (part.IsSingleSegment) return part.FirstSpan;
        if (_copy.Length < part.Length) _copy = new byte[Math.Max(part.Length, Math.Min(2L * _copy.Length, MaxLineBytes + 2L))];
        part.CopyTo(_copy);
        return _copy.AsSpan(0, (int)part.Length);
    }

    private static bool IsBlank(ReadOnlySpan<byte> line) => line.IndexOfAnyExcept((byte)' ', (byte)'\t') < 0; // blank lines are not records

    private const string HeaderError = "not JSON, and not a CSV row under a header naming prospect_id and observed_at";

    /// <summary>The field index of each CSV column (-1: ignored); null when the header lacks a required column.</summary>
    private static int[]? CsvColumns(ReadOnlySpan<byte> header, List<CsvRecord.Cell> cells)
    {
        var columns = new int[cells.Count];
        for (var i = 0; i < cells.Count; i++) columns[i] = Array.IndexOf(ObservationParser.Fields, CsvRecord.Text(header, cells[i]).Trim());
        return columns.Contains(0) && columns.Contains(1) ? columns : null;
    }

    /// <summary>
    /// Hands the batch on and goes back to parsing. Three stages overlap, on as many cores as there are: parsing the
    /// next batch, preparing this one (sorting, fingerprinting and reading ahead the states it needs,
    /// <see cref="IngestEngine.PrepareBatchAsync"/>), and writing the one before. Writes still run one at a time in input
    /// order, and at most <see cref="MaxInFlight"/> batches wait, so memory stays bounded.
    /// </summary>
    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        CountRejected();
        if (_batch.Count == 0) return;
        var observations = _batch;
        _batch = new List<Observation>(batchSize);
        if (_inFlight.Count >= MaxInFlight) await CollectAsync();
        var prepared = Task.Run(() => engine.PrepareBatchAsync(observations, cancellationToken), cancellationToken);
        var previous = _inFlight.LastOrDefault();
        _inFlight.Enqueue(WriteAsync(previous, prepared, cancellationToken));
    }

    private async Task<IngestCounts> WriteAsync(Task<IngestCounts>? previous, Task<IngestBatch> prepared, CancellationToken cancellationToken)
    {
        var batch = await prepared;
        if (previous is not null) await previous; // batches commit in input order
        return await engine.ApplyBatchAsync(batch, clock.GetUtcNow(), cancellationToken);
    }

    /// <summary>Waits for the oldest batch in flight and counts it.</summary>
    private async Task CollectAsync()
    {
        var counts = await _inFlight.Dequeue();
        _observations += counts.Observations;
        _stale += counts.Stale;
        _events += counts.Events;
    }

    // Reads of 128 KiB instead of the default 4 KiB: a 400 MB file took 100,000 reads, and one line in ten straddled
    // two buffers and was copied out whole.
    private static readonly StreamPipeReaderOptions ReadOptions = new(bufferSize: 128 * 1024, minimumReadSize: 32 * 1024);

    private static bool IsJson(ReadOnlySequence<byte> firstLine)
    {
        foreach (var segment in firstLine)
        {
            foreach (var b in segment.Span)
            {
                if (b is (byte)' ' or (byte)'\t') continue;
                return b == '{';
            }
        }
        return true;
    }
}
