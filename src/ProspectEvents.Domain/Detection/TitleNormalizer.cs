using System.Buffers;

namespace ProspectEvents.Detection;

/// <summary>
/// The normal form of a job title: what it says, a function and a level, as the sorted set of its meaningful words.
/// Folded text, separators, filler words, pronouns, the order of the parts and decorations ("| Hiring!",
/// "@ Acme", "at Acme") do not count, and abbreviations are expanded (<c>Terms/title-*.tsv</c>), so "Sales VP",
/// "Vice President of Sales" and "V.P., Sales @ Acme (she/her)" are one title and "Senior Vice President, Sales" another.
/// </summary>
public static class TitleNormalizer
{
    /// <summary>What a title word or words mean ("vp" → "vice president"), in their word form.</summary>
    public static readonly IReadOnlyDictionary<string, string> Abbreviations = Terms.Pairs("title-abbreviations.tsv")
        .ToDictionary(pair => NormalForm.WordsOf(pair.Key), pair => NormalForm.WordsOf(pair.Value), StringComparer.Ordinal);

    /// <summary>Words dropped wherever they stand: joining words and pronouns.</summary>
    public static readonly IReadOnlySet<string> Fillers = Terms.Lines("title-fillers.txt").Select(NormalForm.WordsOf).ToHashSet(StringComparer.Ordinal);

    /// <summary>Words joined to the word after them ("co founder" is "cofounder").</summary>
    public static readonly IReadOnlySet<string> Prefixes = Terms.Lines("title-prefixes.txt").Select(NormalForm.WordsOf).ToHashSet(StringComparer.Ordinal);

    private static readonly int LongestAbbreviation = Abbreviations.Keys.Max(key => key.Count(c => c == ' ') + 1);

    // Each expansion's words read through the table once more, so "BD" and "Business Development" agree where
    // "development" has a form of its own.
    private static readonly Dictionary<string, string[]>.AlternateLookup<ReadOnlySpan<char>> Expansions = Abbreviations.ToDictionary(
            pair => pair.Key,
            pair => pair.Value.Split(' ').SelectMany(word => Abbreviations.TryGetValue(word, out var form) ? form.Split(' ') : [word]).ToArray(),
            StringComparer.Ordinal)
        .GetAlternateLookup<ReadOnlySpan<char>>();

    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> FillerLookup =
        ((HashSet<string>)Fillers).GetAlternateLookup<ReadOnlySpan<char>>();

    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> PrefixLookup =
        ((HashSet<string>)Prefixes).GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The normal form; null for a missing title or one with no meaningful word (unknown, not a change).</summary>
    public static string? Normalize(string? title) => NormalForm.ToString(title, Normalize);

    /// <inheritdoc cref="Normalize(string?)"/>
    public static int Normalize(ReadOnlySpan<char> title, Span<char> destination)
    {
        var scratch = ArrayPool<char>.Shared.Rent(NormalForm.WordsLength(title.Length));
        try
        {
            var words = scratch.AsMemory(0, Undecorated(title, scratch));
            var meaning = new List<ReadOnlyMemory<char>>();
            for (var at = 0; at < words.Length;)
            {
                var (end, expansion) = LongestAbbreviationAt(words.Span, at);
                if (expansion is not null)
                {
                    foreach (var word in expansion) Keep(meaning, word.AsMemory());
                }
                else Keep(meaning, words[at..end]);
                at = end + 1;
            }
            meaning.Sort(static (a, b) => a.Span.SequenceCompareTo(b.Span));
            var length = 0;
            for (var i = 0; i < meaning.Count; i++)
            {
                if (i > 0 && meaning[i].Span.SequenceEqual(meaning[i - 1].Span)) continue; // a set: "Sales VP, Sales" is "Sales VP"
                if (length > 0) destination[length++] = ' ';
                meaning[i].Span.CopyTo(destination[length..]);
                length += meaning[i].Length;
            }
            return length;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(scratch);
        }
    }

    /// <summary>The title's words without its decorations, prefixes joined to their words; returns their length.</summary>
    private static int Undecorated(ReadOnlySpan<char> title, Span<char> words)
    {
        var length = NormalForm.Words(title, words, stopAtDecoration: true);
        // "at Acme" after the job names the employer, not the job.
        var at = words[..length].IndexOf(" at ", StringComparison.Ordinal);
        if (at > 0) length = at;
        else if (words[..length].EndsWith(" at", StringComparison.Ordinal)) length -= 3;

        // Join each prefix to its word, in place.
        var written = 0;
        for (var start = 0; start < length;)
        {
            var end = words[start..length].IndexOf(' ') is var space and >= 0 ? start + space : length;
            words[start..end].CopyTo(words[written..]);
            written += end - start;
            if (end < length && !PrefixLookup.Contains(words[start..end])) words[written++] = ' ';
            start = end + 1;
        }
        return written;
    }

    /// <summary>The end of the longest abbreviation of words starting at <paramref name="start"/>, or of its one word.</summary>
    private static (int End, string[]? Expansion) LongestAbbreviationAt(ReadOnlySpan<char> words, int start)
    {
        Span<int> ends = stackalloc int[LongestAbbreviation];
        var count = 0;
        for (var end = start; count < ends.Length && end < words.Length; end++)
        {
            end = words[end..].IndexOf(' ') is var space and >= 0 ? end + space : words.Length;
            ends[count++] = end;
        }
        for (var n = count - 1; n >= 0; n--)
        {
            if (Expansions.TryGetValue(words[start..ends[n]], out var expansion)) return (ends[n], expansion);
        }
        return (ends[0], null);
    }

    private static void Keep(List<ReadOnlyMemory<char>> meaning, ReadOnlyMemory<char> word)
    {
        if (!FillerLookup.Contains(word.Span)) meaning.Add(word);
    }
}
