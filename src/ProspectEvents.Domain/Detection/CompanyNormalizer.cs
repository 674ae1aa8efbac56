using System.Globalization;

namespace ProspectEvents.Detection;

/// <summary>
/// Normal forms of employer names and domains, so that "The Acme Company" and "ACME, Inc." or
/// "https://www.Acme.com/about" and "acme.com" name the same employer.
/// </summary>
public static class CompanyNormalizer
{
    /// <summary>Legal forms (<c>Terms/legal-forms.txt</c>) in their word form, by their last word, longest first.</summary>
    private static readonly Dictionary<string, string[]>.AlternateLookup<ReadOnlySpan<char>> LegalForms = Terms.Lines("legal-forms.txt")
        .Select(NormalForm.WordsOf)
        .Distinct(StringComparer.Ordinal)
        .GroupBy(form => form[(form.LastIndexOf(' ') + 1)..], StringComparer.Ordinal)
        .ToDictionary(group => group.Key, group => group.OrderByDescending(form => form.Length).ToArray(), StringComparer.Ordinal)
        .GetAlternateLookup<ReadOnlySpan<char>>();

    private static readonly IdnMapping Idn = new();

    /// <summary>Lowercase words without a leading "the", "and" ("&amp;", "+") or trailing legal forms; null when nothing is left.</summary>
    public static string? Name(string? name) => NormalForm.ToString(name, Name);

    /// <inheritdoc cref="Name(string?)"/>
    public static int Name(ReadOnlySpan<char> name, Span<char> destination)
    {
        var words = destination[..NormalForm.Words(WithoutWebSuffix(name, destination), destination)];
        var length = 0;
        // Copies each word down over the dropped ones; "and" is dropped anywhere, "the" only in front.
        foreach (var range in words.Split(' '))
        {
            var word = words[range];
            if (word.SequenceEqual("and") || (length == 0 && word.SequenceEqual("the") && range.End.Value < words.Length)) continue;
            if (length > 0) destination[length++] = ' ';
            word.CopyTo(destination[length..]);
            length += word.Length;
        }
        length = NormalForm.JoinLoneLetters(destination, length); // "H & M" is "H&M" is "hm"
        while (StripLegalForm(destination, ref length)) { }
        return length;
    }

    // "Amazon.com, Inc." is Amazon: a web address's ending glued to a word is no part of the name.
    private static readonly string[] WebSuffixes = [".com", ".net", ".org", ".io", ".ai"];

    /// <summary>The name without a web suffix ending one of its words, copied to the end of <paramref name="scratch"/> when there is one.</summary>
    private static ReadOnlySpan<char> WithoutWebSuffix(ReadOnlySpan<char> name, Span<char> scratch)
    {
        for (var dot = name.IndexOf('.'); dot > 0; dot = name[(dot + 1)..].IndexOf('.') is var next and >= 0 ? dot + 1 + next : -1)
        {
            if (!char.IsLetterOrDigit(name[dot - 1])) continue;
            foreach (var suffix in WebSuffixes)
            {
                var end = dot + suffix.Length;
                if (end > name.Length || !name[dot..end].Equals(suffix, StringComparison.OrdinalIgnoreCase) || (end < name.Length && char.IsLetterOrDigit(name[end]))) continue;
                // Words reads from the end of the buffer while it writes from its start, and never catches up (5 x the text).
                var copy = scratch[^(name.Length - suffix.Length)..];
                name[..dot].CopyTo(copy);
                name[end..].CopyTo(copy[dot..]);
                return copy;
            }
        }
        return name;
    }

    /// <summary>Drops the longest legal form that ends the name, unless it is the whole name.</summary>
    private static bool StripLegalForm(Span<char> name, ref int length)
    {
        var last = name[..length].LastIndexOf(' ');
        if (last < 0 || !LegalForms.TryGetValue(name[(last + 1)..length], out var forms)) return false;
        foreach (var form in forms)
        {
            var start = length - form.Length;
            if (start > 0 && name[start - 1] == ' ' && name[start..length].SequenceEqual(form))
            {
                length = start - 1;
                return true;
            }
        }
        return false;
    }

    /// <summary>The bare host: no scheme, user, <c>www.</c>, port, path or case, IDN labels in Unicode; null when nothing is left.</summary>
    public static string? Domain(string? domain) => NormalForm.ToString(domain, Domain);

    /// <inheritdoc cref="Domain(string?)"/>
    public static int Domain(ReadOnlySpan<char> domain, Span<char> destination)
    {
        var trimmed = domain.Trim();
        Span<char> host = destination[..trimmed.Length];
        trimmed.ToLowerInvariant(host);
        var scheme = host.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0) host = host[(scheme + 3)..];
        var end = host.IndexOfAny(['/', '?', '#', ':']);
        if (end >= 0) host = host[..end];
        host = host[(host.LastIndexOf('@') + 1)..]; // "info@acme.com" names the domain too
        host = host.TrimEnd('.').Trim();
        while (host.StartsWith("www.", StringComparison.Ordinal)) host = host[4..].TrimStart();
        if (host.Contains("xn--", StringComparison.Ordinal)) return Unicode(host, destination);
        host.CopyTo(destination);
        return host.Length;
    }

    // "xn--bcher-kva.de" is "bücher.de" as the folded text has it; a label that is no valid punycode stays as written.
    private static int Unicode(ReadOnlySpan<char> host, Span<char> destination)
    {
        string unicode;
        try
        {
            unicode = TextFold.Fold(Idn.GetUnicode(host.ToString())).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            unicode = host.ToString();
        }
        if (unicode.Length > destination.Length) unicode = host.ToString();
        unicode.CopyTo(destination);
        return unicode.Length;
    }

    /// <summary>A company id without case or surrounding spaces; null when blank.</summary>
    public static string? Id(string? companyId) => NormalForm.ToString(companyId, Id);

    /// <inheritdoc cref="Id(string?)"/>
    public static int Id(ReadOnlySpan<char> companyId, Span<char> destination) => companyId.Trim().ToLowerInvariant(destination);
}
