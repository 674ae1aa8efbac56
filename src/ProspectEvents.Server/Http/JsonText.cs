using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Unicode;

namespace ProspectEvents.Server.Http;

/// <summary>
/// Finds the strings of a parsed JSON body that are no text: invalid or overlong UTF-8, or an escaped lone surrogate
/// (<c>"\ud800"</c>). The parser lets both through, and reading them as strings throws, so a body is checked once,
/// from its raw bytes and without allocating, before a handler reads it.
/// </summary>
public static class JsonText
{
    public const string NotTextMessage = "Input should be a valid string, unable to parse raw data as a unicode string";

    /// <summary>The problem of the first string or property name that is no text, located in <c>loc</c>; null when all are text.</summary>
    public static ValidationError? FindNotText(JsonElement root) =>
        // Outside its strings a parsed document is ASCII, and holds no backslash: one pass over its whole text finds
        // whether any string is no text. Only then is the tree walked, to say which.
        IsText(JsonMarshal.GetRawUtf8Value(root)) ? null : Find(root, ["body"]);

    private static ValidationError? Find(JsonElement element, List<object> at)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return IsText(JsonMarshal.GetRawUtf8Value(element)) ? null : new([.. at], NotTextMessage, "string_unicode");
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (!IsText(JsonMarshal.GetRawUtf8PropertyName(property)))
                        return new([.. at], "JSON decode error: a property name is not valid UTF-8 text", "json_invalid");
                    at.Add(property.Name);
                    var problem = Find(property.Value, at);
                    at.RemoveAt(at.Count - 1);
                    if (problem is not null) return problem;
                }
                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    at.Add(index++);
                    var problem = Find(item, at);
                    at.RemoveAt(at.Count - 1);
                    if (problem is not null) return problem;
                }
                return null;
            default:
                return null;
        }
    }

    /// <summary>True when the raw (still escaped) JSON string is valid UTF-8 and escapes no lone surrogate.</summary>
    public static bool IsText(ReadOnlySpan<byte> raw) => Utf8.IsValid(raw) && FindBadEscape(raw, rejectNul: false) is null;

    /// <summary>
    /// The first escape of raw JSON text that is no character: a lone surrogate, or with <paramref name="rejectNul"/> a
    /// NUL (<c>\u0000</c>); its byte offset and code unit, or null. Outside a string a backslash is invalid JSON, so every
    /// backslash starts an escape, and text without one costs a vectorized pass.
    /// </summary>
    public static (int At, char Unit)? FindBadEscape(ReadOnlySpan<byte> raw, bool rejectNul)
    {
        for (var i = 0; ;)
        {
            // From one escape to the next with a vectorized search: text that escapes every non-ASCII letter stays fast.
            var next = raw[i..].IndexOf((byte)'\\');
            if (next < 0) return null;
            i += next;
            if (i + 1 >= raw.Length) return null; // a backslash at the end escapes nothing: the parser says what is wrong
            if (raw[i + 1] != 'u') { i += 2; continue; } // \\, \", \n: the next byte starts no escape
            if (Escaped(raw, i) is not { } unit) return null; // no escape at all: the parser says what is wrong
            var at = i;
            i += 6;
            if (char.IsLowSurrogate(unit) || (rejectNul && unit == '\0')) return (at, unit);
            if (!char.IsHighSurrogate(unit)) continue;
            if (i + 1 >= raw.Length || raw[i] != '\\' || raw[i + 1] != 'u' || Escaped(raw, i) is not { } low || !char.IsLowSurrogate(low)) return (at, unit);
            i += 6;
        }
    }

    private static char? Escaped(ReadOnlySpan<byte> raw, int at) =>
        at + 6 <= raw.Length && System.Buffers.Text.Utf8Parser.TryParse(raw.Slice(at + 2, 4), out ushort unit, out var consumed, 'X') && consumed == 4
            ? (char)unit
            : null;
}
