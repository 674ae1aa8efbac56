using System.Buffers;
using System.Text;

namespace ProspectEvents.Server.Ingest;

/// <summary>What <see cref="CsvRecord.Scan"/> found at the start of the input.</summary>
internal enum CsvScan
{
    /// <summary>The record does not end within the input read so far.</summary>
    NeedMore,

    /// <summary>A well-formed record: <see cref="CsvExtent.Length"/> bytes, without its line break.</summary>
    Record,

    /// <summary>A line that breaks RFC 4180 (a stray quote): rejected, and the input goes on after its line break.</summary>
    Malformed,

    /// <summary>
    /// A quoted field that runs past its line and never closes (or is followed by text): the record's first line is
    /// rejected and only it is consumed, so the lines after it are read again as records of their own.
    /// </summary>
    Unterminated,

    /// <summary>No record end within the limit: rejected, and the rest of the line is skipped as it streams.</summary>
    TooLong,
}

/// <param name="Consumed">the bytes to consume</param>
/// <param name="Length">the record without its line break (<see cref="CsvScan.Record"/> only)</param>
/// <param name="Lines">the input lines the consumed bytes start</param>
/// <param name="Error">why the record is rejected (<see cref="CsvScan.Malformed"/>, <see cref="CsvScan.Unterminated"/>)</param>
internal readonly record struct CsvExtent(long Consumed, long Length, int Lines, string? Error);

/// <summary>
/// CSV records per RFC 4180: fields separated by commas, a field in double quotes may hold commas, line breaks and
/// doubled quotes (<c>"say ""hi"""</c>); a quote anywhere else is an error. A record may span lines; one whose quote
/// never closes (within the line limit, or before the input ends) rejects only its first line, and what follows is
/// read again, so a stray quote never swallows the rest of the input.
/// </summary>
internal static class CsvRecord
{
    public const string QuoteInUnquotedField = "a quote (\") inside an unquoted field: RFC 4180 wants such a field in quotes, its quotes doubled";
    public const string TextAfterClosingQuote = "text after a closing quote: a quoted field ends at a quote followed by a comma or the end of the record (a quote inside it is written \"\")";
    public const string UnterminatedQuote = "unterminated quote: the quoted field opened on this line does not close, so the record is rejected and the lines after it are read as records of their own";

    private enum State : byte { FieldStart, Unquoted, Quoted, QuoteSeen, ClosedCr }

    /// <summary>
    /// Finds the extent of the record at the start of <paramref name="data"/>, looking at most <paramref name="maxBytes"/>
    /// + 2 bytes (a record of the limit, then CR LF): the answer never depends on how the input was split into reads.
    /// </summary>
    /// <param name="final">no input follows <paramref name="data"/>: its end ends the record</param>
    public static CsvScan Scan(in ReadOnlySequence<byte> data, int maxBytes, bool final, out CsvExtent extent)
    {
        var window = Math.Min(data.Length, maxBytes + 2L);
        var state = State.FieldStart;
        var lines = 1;
        long firstLineEnd = -1, offset = 0;
        string? firstLineError = null;
        byte previous = 0;
        foreach (var memory in data)
        {
            var span = memory.Span;
            if (span.Length > window - offset) span = span[..(int)(window - offset)];
            for (var i = 0; i < span.Length; i++)
            {
                var b = span[i];
                string? error = null;
                if (b == '\n')
                {
                    if (firstLineError is not null)
                    {
                        extent = new CsvExtent(offset + i + 1, 0, 1, firstLineError);
                        return CsvScan.Malformed;
                    }
                    if (state != State.Quoted)
                    {
                        var end = offset + i;
                        extent = new CsvExtent(end + 1, previous == '\r' ? end - 1 : end, lines, null);
                        return CsvScan.Record;
                    }
                    lines++; // a line break inside a quoted field
                    if (firstLineEnd < 0) firstLineEnd = offset + i + 1;
                }
                else if (firstLineError is null)
                {
                    switch (state)
                    {
                        case State.FieldStart:
                            state = b switch { (byte)'"' => State.Quoted, (byte)',' => State.FieldStart, _ => State.Unquoted };
                            break;
                        case State.Unquoted:
                            if (b == ',') state = State.FieldStart;
                            else if (b == '"') error = QuoteInUnquotedField;
                            break;
                        case State.Quoted:
                            if (b == '"') state = State.QuoteSeen;
                            break;
                        case State.QuoteSeen: // a doubled quote, or the closing one
                            if (b == '"') state = State.Quoted;
                            else if (b == ',') state = State.FieldStart;
                            else if (b == '\r') state = State.ClosedCr;
                            else error = TextAfterClosingQuote;
                            break;
                        case State.ClosedCr:
                            error = TextAfterClosingQuote;
                            break;
                    }
                    if (error is not null)
                    {
                        // On the record's first line the line is simply bad. Past it, the quote that carried the record
                        // over a line break was most likely never meant to be closed there: give the lines back.
                        if (lines > 1)
                        {
                            extent = new CsvExtent(firstLineEnd, 0, 1, UnterminatedQuote);
                            return CsvScan.Unterminated;
                        }
                        firstLineError = error;
                    }
                }
                previous = b;
            }
            offset += span.Length;
            if (offset >= window) break;
        }

        if (window == maxBytes + 2L)
        {
            // The record goes on past the limit. A quote still open past its first line never closes in time: give the
            // lines back. Anything else is one over-long line (or record), skipped to its end.
            if (firstLineError is null && lines > 1 && state is State.Quoted or State.QuoteSeen)
            {
                extent = new CsvExtent(firstLineEnd, 0, 1, UnterminatedQuote);
                return CsvScan.Unterminated;
            }
            extent = new CsvExtent(window, 0, lines, null);
            return CsvScan.TooLong;
        }
        if (!final)
        {
            extent = default;
            return CsvScan.NeedMore;
        }
        // The input ends the record.
        if (firstLineError is not null)
        {
            extent = new CsvExtent(data.Length, 0, 1, firstLineError);
            return CsvScan.Malformed;
        }
        if (state == State.Quoted)
        {
            extent = lines > 1 ? new CsvExtent(firstLineEnd, 0, 1, UnterminatedQuote) : new CsvExtent(data.Length, 0, 1, UnterminatedQuote);
            return lines > 1 ? CsvScan.Unterminated : CsvScan.Malformed;
        }
        extent = new CsvExtent(data.Length, previous == '\r' ? data.Length - 1 : data.Length, lines, null);
        return CsvScan.Record;
    }

    /// <summary>A field of a record: its bytes inside the quotes, if any, and whether they hold doubled quotes.</summary>
    public readonly record struct Cell(int Start, int Length, bool Escaped);

    /// <summary>Splits a record <see cref="Scan"/> found well-formed into its fields.</summary>
    public static void Split(ReadOnlySpan<byte> record, List<Cell> cells)
    {
        cells.Clear();
        var i = 0;
        while (true)
        {
            if (i < record.Length && record[i] == '"')
            {
                var start = ++i;
                var escaped = false;
                while (true)
                {
                    var quote = record[i..].IndexOf((byte)'"');
                    if (quote < 0)
                    {
                        i = record.Length; // not from Scan; take what there is
                        break;
                    }
                    i += quote;
                    if (i + 1 < record.Length && record[i + 1] == '"')
                    {
                        escaped = true;
                        i += 2;
                        continue;
                    }
                    break;
                }
                cells.Add(new Cell(start, i - start, escaped));
                i++; // the closing quote
                if (i >= record.Length || record[i] != ',') return;
                i++;
            }
            else
            {
                var comma = record[i..].IndexOf((byte)',');
                if (comma < 0)
                {
                    cells.Add(new Cell(i, record.Length - i, false));
                    return;
                }
                cells.Add(new Cell(i, comma, false));
                i += comma + 1;
            }
        }
    }

    public static string Text(ReadOnlySpan<byte> record, Cell cell)
    {
        var text = Encoding.UTF8.GetString(record.Slice(cell.Start, cell.Length));
        return cell.Escaped ? text.Replace("\"\"", "\"", StringComparison.Ordinal) : text;
    }
}
