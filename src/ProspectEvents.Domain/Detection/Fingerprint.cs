using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace ProspectEvents.Detection;

/// <summary>
/// What detection compares of a prospect, one 32-bit hash per field of its normal form (0: unknown). When every
/// field an observation knows hashes the same as the stored state's, the observation can neither reveal an event nor
/// change the state beyond its time (<see cref="ChangeDetector"/> keeps the stored text when a new one normalizes the
/// same), so ingest needs neither to read nor to rewrite the state: that is most observations of a steady feed.
/// A real change hides behind a hash collision with odds of 2⁻³² per change (one missed event in about four billion
/// changes); 32 bits a field keep a million tracked prospects in about 70 MB.
/// </summary>
public readonly record struct Fingerprint(uint CompanyId, uint Domain, uint Name, uint Title, uint FullName, uint LinkedinUrl, int StartDate)
{
    /// <summary>Bump when a normalizer changes: stored fingerprints of another version are recomputed from the states.</summary>
    public const int Version = 2;

    /// <summary>Bytes of <see cref="Write"/>.</summary>
    public const int Size = 7 * sizeof(uint);

    public static Fingerprint Of(ProspectState state) =>
        Of(state.CompanyId, state.CompanyDomain, state.CompanyName, state.JobTitle, state.FullName, state.LinkedinUrl, state.JobStartDate);

    public static Fingerprint Of(Observation observation) =>
        Of(observation.CompanyId, observation.CompanyDomain, observation.CompanyName, observation.JobTitle, observation.FullName,
            observation.LinkedinUrl, observation.JobStartDate);

    /// <summary>
    /// The fingerprint of <paramref name="state"/>, which <see cref="ChangeDetector"/> made of <paramref name="before"/>
    /// (whose fingerprint is <paramref name="known"/>) and one observation <paramref name="seen"/> (<paramref name="observed"/>):
    /// every text of the state is one of theirs, the very same string, so its hash is already known and nothing is
    /// normalized again. A text that is neither (none today) is hashed afresh.
    /// </summary>
    public static Fingerprint Of(ProspectState state, ProspectState before, in Fingerprint known, Observation seen, in Fingerprint observed) => new(
        Pick(state.CompanyId, seen.CompanyId, observed.CompanyId, before.CompanyId, known.CompanyId, CompanyNormalizer.Id),
        Pick(state.CompanyDomain, seen.CompanyDomain, observed.Domain, before.CompanyDomain, known.Domain, CompanyNormalizer.Domain),
        Pick(state.CompanyName, seen.CompanyName, observed.Name, before.CompanyName, known.Name, CompanyNormalizer.Name),
        Pick(state.JobTitle, seen.JobTitle, observed.Title, before.JobTitle, known.Title, TitleNormalizer.Normalize),
        Pick(state.FullName, seen.FullName, observed.FullName, before.FullName, known.FullName, null),
        Pick(state.LinkedinUrl, seen.LinkedinUrl, observed.LinkedinUrl, before.LinkedinUrl, known.LinkedinUrl, null),
        StartDateOf(state.JobStartDate));

    private static uint Pick(string? text, string? seenText, uint seenHash, string? knownText, uint knownHash, Normalizer? normalizer) =>
        text is null ? 0
        : ReferenceEquals(text, seenText) ? seenHash
        : ReferenceEquals(text, knownText) ? knownHash
        : normalizer is null ? Hash(ChangeDetector.Known(text)) : Hash(text, normalizer);

    private static Fingerprint Of(string? companyId, string? domain, string? name, string? title, string? fullName, string? linkedinUrl, JobStartDate? start) =>
        new(Hash(companyId, CompanyNormalizer.Id), Hash(domain, CompanyNormalizer.Domain), Hash(name, CompanyNormalizer.Name),
            TitleHash(title), Hash(ChangeDetector.Known(fullName)), Hash(ChangeDetector.Known(linkedinUrl)),
            StartDateOf(start));

    // Titles repeat (a feed of a million prospects holds a few hundred distinct ones) and cost a noticeable share of
    // preparing an observation, so each thread keeps the hashes of the titles it met, up to a bound. Company names and
    // domains number in the hundreds of thousands: a bounded memo of those thrashed and was slower.
    [ThreadStatic]
    private static Dictionary<string, uint>? t_titles;

    private const int MemoizedTitles = 4_096;

    private static uint TitleHash(string? title)
    {
        if (title is null) return 0;
        var memo = t_titles ??= new Dictionary<string, uint>(StringComparer.Ordinal);
        if (memo.TryGetValue(title, out var hash)) return hash;
        hash = Hash(title, TitleNormalizer.Normalize);
        if (memo.Count >= MemoizedTitles) memo.Clear(); // a feed of ever new titles: start over rather than grow
        memo.Add(title, hash);
        return hash;
    }

    private static int StartDateOf(JobStartDate? start) => start is { } s ? s.Year * 10_000 + s.Month * 100 + (s.Day ?? 0) : 0;

    private static uint Hash(string? text, Normalizer normalizer) => text is null ? 0 : NormalForm.With(text, normalizer, Hash);

    private static uint Hash(string? text) => text is null ? 0 : Hash(text.AsSpan());

    // 0 means unknown (nothing left after normalizing), so a value that hashes to 0 is moved to 1.
    private static uint Hash(ReadOnlySpan<char> text) =>
        text.IsEmpty ? 0 : Math.Max(1, (uint)XxHash3.HashToUInt64(MemoryMarshal.AsBytes(text)));

    /// <summary>True when every field <paramref name="seen"/> knows is this one's.</summary>
    public bool IsRepeatedBy(in Fingerprint seen) =>
        Same(seen.CompanyId, CompanyId) && Same(seen.Domain, Domain) && Same(seen.Name, Name) && Same(seen.Title, Title)
        && Same(seen.FullName, FullName) && Same(seen.LinkedinUrl, LinkedinUrl) && Same((uint)seen.StartDate, (uint)StartDate);

    private static bool Same(uint seen, uint known) => seen == 0 || seen == known;

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, CompanyId);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Domain);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], Name);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], Title);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], FullName);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], LinkedinUrl);
        BinaryPrimitives.WriteInt32LittleEndian(destination[24..], StartDate);
    }

    public static Fingerprint Read(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(source), BinaryPrimitives.ReadUInt32LittleEndian(source[4..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[8..]), BinaryPrimitives.ReadUInt32LittleEndian(source[12..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[16..]), BinaryPrimitives.ReadUInt32LittleEndian(source[20..]),
        BinaryPrimitives.ReadInt32LittleEndian(source[24..]));
}
