using System.Buffers;
using System.Globalization;
using System.Text;

namespace ProspectEvents.Detection;

/// <summary>Writes the normal form of the folded <paramref name="text"/> at the start of <paramref name="destination"/>; returns its length (0: nothing left).</summary>
/// <remarks>Called through <see cref="NormalForm"/>, which folds the text (<see cref="TextFold"/>) and sizes
/// <paramref name="destination"/> to <see cref="NormalForm.BufferLength"/> of the folded text's length.</remarks>
public delegate int Normalizer(ReadOnlySpan<char> text, Span<char> destination);

/// <summary>
/// Runs a <see cref="Normalizer"/> in a scratch buffer, so the normal forms of ingest's hot path are hashed without
/// allocating; the string forms are made from the very same characters, so both can never disagree.
/// </summary>
public static class NormalForm
{
    private const int StackChars = 1024;

    private static readonly Dictionary<char, string> LatinLetters =
        Terms.Pairs("latin-letters.tsv").ToDictionary(pair => pair.Key[0], pair => pair.Value);

    /// <summary>Room for any normal form of a folded text of <paramref name="textLength"/> characters (an expanded
    /// abbreviation is longer than its text, eleven times at most: "it" is "information technology").</summary>
    public static int BufferLength(int textLength) => 12 * textLength + 16;

    /// <summary>Room for the <see cref="Words"/> of a folded text of <paramref name="textLength"/> characters ("&amp;" is " and ").</summary>
    public static int WordsLength(int textLength) => 5 * textLength + 8;

    /// <summary>The <see cref="Words"/> of a text as a string: how the term tables read their entries (so "R&amp;D" is "r and d").</summary>
    internal static string WordsOf(string text) => With(text, static (folded, destination) => Words(folded, destination), static words => new string(words));

    public static string? ToString(string? text, Normalizer normalizer) =>
        text is null ? null : With(text, normalizer, static normal => normal.IsEmpty ? null : new string(normal));

    public static T With<T>(ReadOnlySpan<char> text, Normalizer normalizer, Func<ReadOnlySpan<char>, T> use)
    {
        if (!TextFold.IsNeeded(text)) return Normalized(text, normalizer, use);
        var folded = ArrayPool<char>.Shared.Rent(TextFold.MaxExpansion * text.Length);
        try
        {
            return Normalized(folded.AsSpan(0, TextFold.Fold(text, folded)), normalizer, use);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(folded);
        }
    }

    private static T Normalized<T>(ReadOnlySpan<char> folded, Normalizer normalizer, Func<ReadOnlySpan<char>, T> use)
    {
        var length = BufferLength(folded.Length);
        char[]? rented = null;
        // Sized to the text: the runtime zeroes a stack buffer, and most texts need a tenth of the limit.
        var buffer = length <= StackChars ? stackalloc char[length] : rented = ArrayPool<char>.Shared.Rent(length);
        try
        {
            return use(buffer[..normalizer(folded, buffer[..length])]);
        }
        finally
        {
            if (rented is not null) ArrayPool<char>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// The lowercase words of the folded <paramref name="text"/>, one space apart, into <paramref name="destination"/>
    /// (<see cref="WordsLength"/>). Dots and apostrophes vanish ("L.L.C." is "llc", "O'Neil" is "oneil"); "&amp;", and a
    /// "+" that is not the end of a word ("C++"), are the word "and"; diacritics of Latin, Greek and Cyrillic letters are
    /// dropped ("é" is "e", "ß" is "ss"), those of other scripts kept as part of their letters; anything else separates
    /// words. Letters standing alone one after another are one word ("J. P. Morgan" is "jp morgan", as "J.P. Morgan").
    /// With <paramref name="stopAtDecoration"/>, a "|" or "@" after the first word ends the text ("CFO | Speaker").
    /// </summary>
    public static int Words(ReadOnlySpan<char> text, Span<char> destination, bool stopAtDecoration = false)
    {
        return JoinLoneLetters(destination, Read(text, destination, stopAtDecoration));
    }

    /// <summary>Makes letters standing alone one after another one word, in place; returns the new length.</summary>
    internal static int JoinLoneLetters(Span<char> words, int length) => HasLoneLetters(words[..length]) ? JoinedLoneLetters(words, length) : length;

    private static int Read(ReadOnlySpan<char> text, Span<char> destination, bool stopAtDecoration)
    {
        var length = 0;
        var inWord = false;
        var dropsMarks = false; // the last letter written is Latin, Greek or Cyrillic: its combining marks are diacritics
        for (var i = 0; i < text.Length;)
        {
            var c = text[i];
            if (c < 0x80)
            {
                i++;
                if (char.IsAsciiLetterOrDigit(c))
                {
                    Begin(destination, ref length, ref inWord);
                    destination[length++] = char.IsAsciiLetterUpper(c) ? (char)(c | 0x20) : c;
                    dropsMarks = true;
                }
                else if (c is '.' or '\'' or '`') continue;
                else if (c is '+' or '#' && inWord && (c == '#' || i == text.Length || !char.IsLetterOrDigit(text[i]))) destination[length++] = c;
                else if (c is '&' or '+')
                {
                    inWord = false;
                    Begin(destination, ref length, ref inWord);
                    "and".CopyTo(destination[length..]);
                    length += 3;
                    inWord = false;
                }
                else if (stopAtDecoration && c is '|' or '@' && length > 0) return length;
                else inWord = false;
                continue;
            }

            Rune.DecodeFromUtf16(text[i..], out var rune, out var consumed);
            i += consumed;
            if (rune.Value is '’' or '‘' or 'ʼ' or 'ʻ' or '´') continue;
            if (stopAtDecoration && rune.Value == '¦' && length > 0) return length;
            switch (Rune.GetUnicodeCategory(rune))
            {
                case UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                    or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
                    or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber:
                    Begin(destination, ref length, ref inWord);
                    var lower = Rune.ToLowerInvariant(rune);
                    if (lower.IsBmp && LatinLetters.TryGetValue((char)lower.Value, out var spelled))
                    {
                        spelled.CopyTo(destination[length..]);
                        length += spelled.Length;
                    }
                    else length += lower.EncodeToUtf16(destination[length..]);
                    dropsMarks = IsLatinGreekOrCyrillic(rune.Value);
                    break;
                case UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark:
                    if (inWord && !dropsMarks) length += rune.EncodeToUtf16(destination[length..]);
                    break;
                default:
                    inWord = false;
                    break;
            }
        }
        return length;
    }

    // Cheap check first: most texts hold no word of one letter next to another.
    private static bool HasLoneLetters(ReadOnlySpan<char> words)
    {
        var previousLone = false;
        foreach (var range in words.Split(' '))
        {
            var lone = IsLoneLetter(words[range]);
            if (lone && previousLone) return true;
            previousLone = lone;
        }
        return false;
    }

    private static int JoinedLoneLetters(Span<char> words, int length)
    {
        var written = 0;
        var previousLone = false;
        foreach (var range in ((ReadOnlySpan<char>)words[..length]).Split(' '))
        {
            var word = words[range];
            var lone = IsLoneLetter(word);
            if (written > 0 && !(lone && previousLone)) words[written++] = ' ';
            word.CopyTo(words[written..]); // never ahead of what is read: written <= range.Start
            written += word.Length;
            previousLone = lone;
        }
        return written;
    }

    private static bool IsLoneLetter(ReadOnlySpan<char> word) => word.Length == 1 && char.IsLetter(word[0]);

    private static void Begin(Span<char> destination, ref int length, ref bool inWord)
    {
        if (inWord) return;
        if (length > 0) destination[length++] = ' ';
        inWord = true;
    }

    private static bool IsLatinGreekOrCyrillic(int codePoint) =>
        codePoint < 0x0530 || codePoint is (>= 0x1D00 and < 0x2000) or (>= 0x2C60 and < 0x2C80) or (>= 0xA720 and < 0xA800) or (>= 0xAB30 and < 0xAB70);
}
