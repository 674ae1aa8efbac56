using System.Globalization;
using System.Text;
using System.Text.Unicode;
using System.Text.Json;
using ProspectEvents.Detection;
using ProspectEvents.Server.Http;

namespace ProspectEvents.Server.Ingest;

/// <summary>
/// Turns one input record (an NDJSON line, or a CSV row as name/value pairs) into an <see cref="Observation"/>, or
/// says why it can't. Unknown fields are ignored (vendor feeds carry many); wrong types and malformed values are not.
/// </summary>
public static class ObservationParser
{
    public static readonly string[] Fields =
    [
        "prospect_id", "observed_at", "full_name", "job_title", "job_department", "job_seniority_level",
        "company_id", "company_name", "company_domain", "job_start_date", "linkedin_url",
    ];

    private const int Department = 4, Seniority = 5;

    [ThreadStatic]
    private static string?[]? t_values;

    // The names as UTF-8, so matching a property compares bytes instead of transcoding a string per comparison.
    private static readonly byte[][] Utf8Fields = [.. Fields.Select(System.Text.Encoding.UTF8.GetBytes)];

    /// <summary>
    /// Parses one NDJSON line straight from its UTF-8 bytes. A line that is not text a record may hold (invalid UTF-8
    /// anywhere, a NUL raw or escaped, a lone surrogate escape, in any field, known or not) is rejected before it is read.
    /// </summary>
    public static bool TryParseJson(ReadOnlySpan<byte> line, out Observation? observation, out string? error)
    {
        observation = null;
        if (JsonTextError(line) is { } textError) return Fail(textError, out error);
        // One array a thread, reused line after line (a million lines allocated a million of them): TryBuild copies
        // what it keeps into the observation before this returns.
        var values = t_values ??= new string?[Fields.Length];
        Array.Clear(values);
        DateTimeOffset? observedAt = null;
        try
        {
            var reader = new Utf8JsonReader(line);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return Fail("not a JSON object", out error);
            var index = -1;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                index = FieldIndex(ref reader, index + 1);
                reader.Read();
                if (index < 0)
                {
                    reader.Skip();
                    continue;
                }
                if (index == 1 && (observedAt = UtcTime(ref reader)) is not null) continue;
                switch (reader.TokenType)
                {
                    case JsonTokenType.String when index is Department or Seniority: break; // no rule reads them: don't allocate
                    case JsonTokenType.String: values[index] = reader.GetString(); break;
                    case JsonTokenType.Null: values[index] = null; break;
                    default: return Fail($"{Fields[index]} must be a string or null, not {Describe(reader.TokenType)}", out error);
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read()) return Fail("not a single JSON object", out error);
        }
        catch (JsonException e)
        {
            return Fail($"invalid JSON at position {e.BytePositionInLine + 1}", out error);
        }
        catch (InvalidOperationException e)
        {
            // Text the reader cannot turn into a string (JsonTextError lets none through): still this line's fault.
            return Fail($"unreadable text: {e.Message}", out error);
        }
        return TryBuild(values, out observation, out error, observedAt);
    }

    /// <summary>Why a record's bytes are not text it may hold: invalid UTF-8 or a NUL byte (null: they are).</summary>
    public static string? TextError(ReadOnlySpan<byte> record)
    {
        if (!Utf8.IsValid(record)) return InvalidUtf8(record);
        var nul = record.IndexOf((byte)0);
        return nul < 0 ? null : $"a NUL byte at byte {nul + 1}";
    }

    /// <summary>
    /// <see cref="TextError"/> for an NDJSON line, and its escapes: a NUL or a lone surrogate can only be written as
    /// one (raw, the first is invalid JSON and the second invalid UTF-8). Outside a string a backslash is invalid JSON,
    /// so every backslash starts an escape. Lines without a backslash or a NUL, nearly all, cost two vectorized passes.
    /// </summary>
    private static string? JsonTextError(ReadOnlySpan<byte> line)
    {
        if (!Utf8.IsValid(line)) return InvalidUtf8(line);
        var special = line.IndexOfAny((byte)0, (byte)'\\');
        if (special < 0) return null;
        var nul = line[special..].IndexOf((byte)0);
        if (nul >= 0) return $"a NUL byte at byte {special + nul + 1}";
        return JsonText.FindBadEscape(line, rejectNul: true) switch
        {
            null => null,
            ({ } at, '\0') => $"a NUL (\\u0000) at byte {at + 1}",
            ({ } at, var unit) => $"a lone surrogate (\\u{(int)unit:x4}) at byte {at + 1}: text must be valid Unicode",
        };
    }

    private static string InvalidUtf8(ReadOnlySpan<byte> text)
    {
        var at = 0;
        while (at < text.Length && Rune.DecodeFromUtf8(text[at..], out _, out var length) == System.Buffers.OperationStatus.Done) at += length;
        return $"invalid UTF-8 at byte {at + 1}";
    }

    /// <summary>Builds an observation from field values in <see cref="Fields"/> order (null or empty: unknown).</summary>
    public static bool TryBuild(string?[] values, out Observation? observation, out string? error, DateTimeOffset? parsedObservedAt = null)
    {
        observation = null;
        var prospectId = Lower(values[0]?.Trim());
        if (string.IsNullOrEmpty(prospectId)) return Fail("prospect_id is required", out error);
        if (!ProspectId.IsValid(prospectId)) return Fail("prospect_id must be 40 hex characters", out error);
        if (parsedObservedAt is not { } observedAt)
        {
            if (string.IsNullOrWhiteSpace(values[1])) return Fail("observed_at is required", out error);
            if (!DateTimeOffset.TryParse(values[1], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out observedAt) || !values[1]!.Contains('T', StringComparison.Ordinal))
                return Fail($"observed_at must be an RFC 3339 date-time, not '{values[1]}'", out error);
        }
        var companyId = Known(values[6]);
        if (companyId is not null && (companyId.Length != 32 || companyId.AsSpan().ContainsAnyExcept(HexDigits)))
            return Fail("company_id must be 32 hex characters", out error);
        JobStartDate? start = null;
        if (Known(values[9]) is { } startText)
        {
            if (!JobStartDate.TryParse(startText, out var parsed)) return Fail($"job_start_date must be YYYY-MM-DD or YYYY-MM, not '{startText}'", out error);
            start = parsed;
        }
        // Times are kept to the millisecond, as stored: finer digits would order observations that ingest (which
        // compares stored milliseconds) takes for simultaneous.
        var utc = observedAt.ToUniversalTime();
        utc = utc.AddTicks(-(utc.Ticks % TimeSpan.TicksPerMillisecond));
        observation = new Observation(prospectId, utc, Known(values[2]), Known(values[3]),
            Lower(companyId), Known(values[7]), Known(values[8]), start, Known(values[10]));
        error = null;
        return true;
    }

    /// <summary>
    /// The common form of observed_at, a UTC date-time ("…T…Z"), read by the JSON reader's own ISO 8601 parser, far
    /// cheaper than the general one; null for any other form, which <see cref="TryBuild"/> then parses and judges.
    /// </summary>
    private static DateTimeOffset? UtcTime(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && reader.ValueSpan is [.., (byte)'Z'] && reader.ValueSpan.Contains((byte)'T')
        && reader.TryGetDateTimeOffset(out var time) ? time : null;

    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    /// <summary>The field the property names, or -1. Feeds write their fields in one order, so the one after the
    /// last is tried first: usually one comparison instead of up to eleven.</summary>
    private static int FieldIndex(ref Utf8JsonReader reader, int expected)
    {
        if ((uint)expected < (uint)Utf8Fields.Length && reader.ValueTextEquals(Utf8Fields[expected])) return expected;
        for (var i = 0; i < Utf8Fields.Length; i++)
        {
            if (reader.ValueTextEquals(Utf8Fields[i])) return i;
        }
        return -1;
    }

    /// <summary>
    /// Lowercase ASCII, for hex ids: a vectorized check first, since feeds write them lowercase and the general
    /// lowering compares every character (it took 1 % of an ingest). Other characters make the id invalid anyway.
    /// </summary>
    private static string? Lower(string? id) => id is not null && id.AsSpan().ContainsAnyInRange('A', 'Z') ? id.ToLowerInvariant() : id;

    private static string? Known(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.StartObject => "an object",
        _ => token.ToString(),
    };

    private static bool Fail(string message, out string? error)
    {
        error = message;
        return false;
    }

}
