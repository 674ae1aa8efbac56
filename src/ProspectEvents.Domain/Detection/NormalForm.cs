using System.Buffers;

namespace ProspectEvents.Detection;

/// <summary>Writes the normal form of <paramref name="text"/> at the start of <paramref name="destination"/>; returns its length (0: nothing left).</summary>
/// <remarks><paramref name="destination"/> holds at least <see cref="NormalForm.BufferLength"/>(text.Length) characters.</remarks>
public delegate int Normalizer(ReadOnlySpan<char> text, Span<char> destination);

/// <summary>
/// Runs a <see cref="Normalizer"/> in a scratch buffer, so the normal forms of ingest's hot path are hashed without
/// allocating; the string forms are made from the very same characters, so both can never disagree.
/// </summary>
public static class NormalForm
{
    private const int StackChars = 1024;

    /// <summary>Room for any normal form of a text of <paramref name="textLength"/> characters and its lowercase copy
    /// (an abbreviation expands at most ninefold: "qa" is "quality assurance").</summary>
    public static int BufferLength(int textLength) => 10 * textLength + 8;

    public static string? ToString(string? text, Normalizer normalizer) =>
        text is null ? null : With(text, normalizer, static normal => normal.IsEmpty ? null : new string(normal));

    public static T With<T>(ReadOnlySpan<char> text, Normalizer normalizer, Func<ReadOnlySpan<char>, T> use)
    {
        var length = BufferLength(text.Length);
        char[]? rented = null;
        // Sized to the text: the runtime zeroes a stack buffer, and most texts need a tenth of the limit.
        var buffer = length <= StackChars ? stackalloc char[length] : rented = ArrayPool<char>.Shared.Rent(length);
        try
        {
            return use(buffer[..normalizer(text, buffer[..length])]);
        }
        finally
        {
            if (rented is not null) ArrayPool<char>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// The lowercase words of <paramref name="text"/>, one space apart: dots and apostrophes vanish ("L.L.C." is "llc",
    /// "O'Neil" is "oneil"), "&amp;" is the word "and", any other punctuation separates words. Each word found in
    /// <paramref name="expansions"/> is replaced by its expansion. The lowercase copy of the text is kept at the end of
    /// <paramref name="destination"/>, which the words, at most nine times as long, never reach before reading it.
    /// </summary>
    internal static int Words(ReadOnlySpan<char> text, Span<char> destination, Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>>? expansions)
    {
        var lower = destination[^text.Length..];
        text.ToLowerInvariant(lower);
        var length = 0;
        var word = -1; // start of the word being written
        foreach (var c in lower)
        {
            if (char.IsLetterOrDigit(c))
            {
                if (word < 0) word = Begin(destination, ref length);
                destination[length++] = c;
            }
            else if (c is not ('.' or '\'' or '’'))
            {
                End(destination, ref length, ref word, expansions);
                if (c != '&') continue;
                word = Begin(destination, ref length);
                "and".CopyTo(destination[length..]);
                length += 3;
                End(destination, ref length, ref word, expansions);
            }
        }
        End(destination, ref length, ref word, expansions);
        return length;
    }

    private static int Begin(Span<char> destination, ref int length)
    {
        if (length > 0) destination[length++] = ' ';
        return length;
    }

    private static void End(Span<char> destination, ref int length, ref int word, Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>>? expansions)
    {
        if (word >= 0 && expansions is { } lookup && lookup.TryGetValue(destination[word..length], out var expanded))
        {
            expanded.CopyTo(destination[word..]);
            length = word + expanded.Length;
        }
        word = -1;
    }
}
