using System.Text;

namespace ProspectEvents.Detection;

/// <summary>
/// Normal forms of employer names and domains, so that "Acme" and "Acme, Inc." or "https://www.Acme.com/about"
/// and "acme.com" name the same employer.
/// </summary>
public static class CompanyNormalizer
{
    // Legal-form words dropped from the end of a name (repeatedly: "Acme Pty Ltd" -> "acme").
    private static readonly HashSet<string> LegalSuffixes = new(StringComparer.Ordinal)
    {
        "inc", "incorporated", "llc", "ltd", "limited", "gmbh", "corp", "corporation", "co", "company", "plc",
        "sa", "ag", "bv", "nv", "srl", "sarl", "spa", "pty", "pte", "lp", "llp", "oy", "ab", "kk", "kg", "sas", "sl",
    };

    /// <summary>Lowercase words without punctuation or legal suffixes; null when nothing is left.</summary>
    public static string? Name(string? name)
    {
        var words = Words(name);
        while (words.Count > 1 && LegalSuffixes.Contains(words[^1])) words.RemoveAt(words.Count - 1);
        return words.Count == 0 ? null : string.Join(' ', words);
    }

    /// <summary>The bare host: no scheme, <c>www.</c>, port, path or case; null when nothing is left.</summary>
    public static string? Domain(string? domain)
    {
        if (string.IsNullOrWhiteSpace(domain)) return null;
        var host = domain.Trim().ToLowerInvariant();
        var scheme = host.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0) host = host[(scheme + 3)..];
        var end = host.IndexOfAny(['/', '?', '#', ':']);
        if (end >= 0) host = host[..end];
        host = host.TrimEnd('.');
        if (host.StartsWith("www.", StringComparison.Ordinal)) host = host[4..];
        return host.Length == 0 ? null : host;
    }

    /// <summary>
    /// Splits into lowercase words: dots and apostrophes vanish ("L.L.C." is "llc", "O'Neil" is "oneil"),
    /// "&amp;" is "and", any other punctuation separates words.
    /// </summary>
    internal static List<string> Words(string? text)
    {
        var words = new List<string>();
        if (string.IsNullOrWhiteSpace(text)) return words;
        var word = new StringBuilder();
        foreach (var c in text.ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c)) word.Append(c);
            else if (c is '.' or '\'' or '’') continue;
            else
            {
                Flush();
                if (c == '&') words.Add("and");
            }
        }
        Flush();
        return words;

        void Flush()
        {
            if (word.Length > 0) words.Add(word.ToString());
            word.Clear();
        }
    }
}
