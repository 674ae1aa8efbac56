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

    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> LegalSuffixLookup = LegalSuffixes.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Lowercase words without punctuation or legal suffixes; null when nothing is left.</summary>
    public static string? Name(string? name) => NormalForm.ToString(name, Name);

    /// <inheritdoc cref="Name(string?)"/>
    public static int Name(ReadOnlySpan<char> name, Span<char> destination)
    {
        var length = NormalForm.Words(name, destination, null);
        for (var space = destination[..length].LastIndexOf(' '); space > 0; space = destination[..length].LastIndexOf(' '))
        {
            if (!LegalSuffixLookup.Contains(destination[(space + 1)..length])) break;
            length = space;
        }
        return length;
    }

    /// <summary>The bare host: no scheme, <c>www.</c>, port, path or case; null when nothing is left.</summary>
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
        host = host.TrimEnd('.');
        if (host.StartsWith("www.", StringComparison.Ordinal)) host = host[4..];
        host.CopyTo(destination);
        return host.Length;
    }

    /// <summary>A company id without case or surrounding spaces; null when blank.</summary>
    public static string? Id(string? companyId) => NormalForm.ToString(companyId, Id);

    /// <inheritdoc cref="Id(string?)"/>
    public static int Id(ReadOnlySpan<char> companyId, Span<char> destination) => companyId.Trim().ToLowerInvariant(destination);
}
