using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;

namespace ProspectEvents.Detection;

/// <summary>
/// Folds away what is not meaning in profile text before its words are read: HTML entities (also double-encoded
/// ones), Unicode compatibility forms (NFKD: full-width letters, ligatures, "fancy" mathematical letters), invisible
/// characters and lone surrogates. The decompositions come from a table in the repository, not from the host's ICU,
/// so every host and every version of .NET folds alike: fingerprints and event ids depend on it.
/// </summary>
public static class TextFold
{
    /// <summary>Characters one UTF-16 unit of text folds to at most (U+FDFA decomposes to 18).</summary>
    public const int MaxExpansion = 18;

    private static readonly Dictionary<int, string> Decompositions = LoadDecompositions();

    /// <summary>False for plain ASCII without what may be an HTML entity: such text is its own fold (most of a feed).</summary>
    public static bool IsNeeded(ReadOnlySpan<char> text)
    {
        if (!Ascii.IsValid(text)) return true;
        var ampersand = text.IndexOf('&');
        return ampersand >= 0 && text[ampersand..].Contains(';');
    }

    /// <summary>Writes the fold of <paramref name="text"/> to <paramref name="destination"/> (<see cref="MaxExpansion"/> times its length); returns its length.</summary>
    public static int Fold(ReadOnlySpan<char> text, Span<char> destination)
    {
        ReadOnlySpan<char> source = text.Contains('&') ? DecodeEntities(text.ToString()) : text;
        var length = 0;
        for (var i = 0; i < source.Length;)
        {
            if (Rune.DecodeFromUtf16(source[i..], out var rune, out var consumed) != OperationStatus.Done)
            {
                destination[length++] = ' '; // a lone surrogate is no text: it separates words
                i += consumed;
                continue;
            }
            i += consumed;
            if (rune.IsAscii) destination[length++] = (char)rune.Value;
            else if (IsInvisible(rune)) continue;
            else if (Decompositions.TryGetValue(rune.Value, out var decomposed))
            {
                decomposed.CopyTo(destination[length..]);
                length += decomposed.Length;
            }
            else length += rune.EncodeToUtf16(destination[length..]);
        }
        return length;
    }

    /// <summary>The fold as a string.</summary>
    public static string Fold(string text)
    {
        var buffer = new char[MaxExpansion * text.Length];
        return new string(buffer, 0, Fold(text, buffer));
    }

    // Format characters (zero-width space and joiners, soft hyphen, BOM, direction marks, tags), variation selectors
    // and the blank letters that render as nothing: none of them may split a word or tell two texts apart.
    private static bool IsInvisible(Rune rune) =>
        Rune.GetUnicodeCategory(rune) == UnicodeCategory.Format
        || rune.Value is 0x034F or 0x115F or 0x1160 or 0x3164 or 0xFFA0 or (>= 0xFE00 and <= 0xFE0F) or (>= 0xE0100 and <= 0xE01EF);

    // Vendor exports escape text once or twice ("&amp;amp;"): decode until nothing changes, a few rounds at most.
    private static string DecodeEntities(string text)
    {
        for (var round = 0; round < 3 && text.Contains('&'); round++)
        {
            var decoded = WebUtility.HtmlDecode(text);
            if (decoded == text) break;
            text = decoded;
        }
        return text;
    }

    private static Dictionary<int, string> LoadDecompositions()
    {
        var table = new Dictionary<int, string>(6_000);
        foreach (var line in Terms.Lines("unicode-decompositions.txt"))
        {
            var parts = line.Split(' ');
            var text = new StringBuilder(parts.Length * 2);
            foreach (var part in parts.AsSpan(1)) text.Append(char.ConvertFromUtf32(int.Parse(part, NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
            table.Add(int.Parse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture), text.ToString());
        }
        return table;
    }
}
