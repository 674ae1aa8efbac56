using ProspectEvents.Detection;

namespace ProspectEvents.Tests.Detection;

/// <summary>
/// Ingest skips the stored state of an observation whose fingerprint repeats the state's; that is only sound if the
/// detector would have found nothing and changed nothing but the time.
/// </summary>
public sealed class FingerprintTests
{
    private const string Dana = "20ae6cbf564ee683e66685e429844a5ff8ffc30f";
    private static readonly DateTimeOffset Day1 = new(2026, 1, 1, 8, 0, 0, TimeSpan.Zero);

    private static readonly ProspectState Known = new(Day1, "Dana Levi", "VP Sales", "8adce3ca1cef0c986b22310e369a0793", "Acme", "acme.com",
        new JobStartDate(2024, 3, 15), "https://www.linkedin.com/in/dana-levi");

    private static Observation Seen(string? title = "VP Sales", string? companyId = "8adce3ca1cef0c986b22310e369a0793", string? company = "Acme",
        string? domain = "acme.com", JobStartDate? start = null, string? fullName = "Dana Levi") =>
        new(Dana, Day1.AddDays(30), fullName, title, CompanyId: companyId, CompanyName: company, CompanyDomain: domain,
            JobStartDate: start ?? new JobStartDate(2024, 3, 15), LinkedinUrl: "https://www.linkedin.com/in/dana-levi");

    private static bool Repeats(Observation observation) => Fingerprint.Of(Known).IsRepeatedBy(Fingerprint.Of(observation));

    [Fact]
    public void AnObservationRewordingEveryFieldRepeatsTheState() =>
        Assert.True(Repeats(Seen("Vice President, Sales", "8ADCE3CA1CEF0C986B22310E369A0793", "ACME, Inc.", "https://www.Acme.com/about")));

    [Fact]
    public void AnObservationMissingFieldsRepeatsTheState() =>
        Assert.True(Repeats(Seen(title: null, companyId: null, company: "  ", domain: null, fullName: "")));

    [Fact]
    public void ADifferentTitleIsNotARepeat() => Assert.False(Repeats(Seen(title: "CEO")));

    [Fact]
    public void ADifferentEmployerIsNotARepeat() => Assert.False(Repeats(Seen(company: "Globex")));

    [Fact]
    public void ADifferentStartDateIsNotARepeat() => Assert.False(Repeats(Seen(start: new JobStartDate(2025, 1, null))));

    [Fact]
    public void AFieldTheStateDoesNotKnowIsNotARepeat() =>
        Assert.False(Fingerprint.Of(Known with { JobTitle = null }).IsRepeatedBy(Fingerprint.Of(Seen())));

    [Fact]
    public void AFingerprintReadsBackAsWritten()
    {
        var fingerprint = Fingerprint.Of(Known);
        var bytes = new byte[Fingerprint.Size];
        fingerprint.Write(bytes);
        Assert.Equal(fingerprint, Fingerprint.Read(bytes));
    }

    [Fact]
    public void ATitlesHashFromTheMemoEqualsItsHashNormalizedAfreshAcrossMoreTitlesThanTheMemoHolds()
    {
        var before = ChangeDetector.Apply(null, Seen(title: null)).State;
        var known = Fingerprint.Of(before);
        // 3,000 titles three times over (met again while memoized), then 10,000 more (the memo starts over twice).
        var titles = Enumerable.Range(0, 9_000).Select(n => $"Sr. Eng. {n % 3_000}").Concat(Enumerable.Range(3_000, 10_000).Select(n => $"Sr. Eng. {n}"));
        foreach (var title in titles)
        {
            var seen = Seen(title: title);
            var memoized = Fingerprint.Of(seen with { JobTitle = new string(title.AsSpan()) }).Title; // another string, the same text
            // A state holding a copy of the text (neither the observation's string nor the old state's) is hashed afresh.
            var state = before with { JobTitle = new string(title.AsSpan()) };
            Assert.Equal(Fingerprint.Of(state, before, known, seen, Fingerprint.Of(seen)).Title, memoized);
        }
    }

    [Fact]
    public void ATitleLongerThanTheStackBufferNormalizesLikeAnyOther()
    {
        var title = string.Join(", ", Enumerable.Repeat("Sr. VP", 100)) + " of Sales";
        Assert.True(NormalForm.BufferLength(title.Length) > 1024);
        Assert.Equal("president sales senior vice", TitleNormalizer.Normalize(title));
    }

    private static readonly string?[] CompanyIds = [null, "", "8adce3ca1cef0c986b22310e369a0793", "8ADCE3CA1CEF0C986B22310E369A0793", "1bdce3ca1cef0c986b22310e369a0793"];
    private static readonly string?[] Companies = [" ", "A.C.M.E.", .. Variants.Companies];
    private static readonly string?[] Domains = [null, "", "acme.com", "https://www.ACME.com/x", "info@acme.com", "globex.com", "bücher.de", "xn--bcher-kva.de"];
    private static readonly string?[] Titles = ["V.P. Sales", .. Variants.Titles];
    private static readonly string?[] Names = [null, "", "Dana Levi", "Dana  Levi"];
    private static readonly JobStartDate?[] Starts = [null, new JobStartDate(2024, 3, 15), new JobStartDate(2024, 3, null)];

    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 300)];

    /// <summary>
    /// An observation <paramref name="day"/> days after Day1 drawn from the variants above. Each text is a copy, so
    /// equal texts are distinct strings, as they are when parsed from a feed.
    /// </summary>
    private static Observation RandomObservation(Random random, int day)
    {
        T Any<T>(T[] values) => values[random.Next(values.Length)];
        string? Text(string?[] values) => Any(values) is { } text ? new string(text.AsSpan()) : null;
        return new(Dana, Day1.AddDays(day), Text(Names), Text(Titles), CompanyId: Text(CompanyIds), CompanyName: Text(Companies),
            CompanyDomain: Text(Domains), JobStartDate: Any(Starts), LinkedinUrl: Text(Names));
    }

    /// <summary>From random states and observations of the same cosmetic variants: a repeat never hides an event or a state change.</summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void WhateverRepeatsTheStateTheDetectorFindsNothingInAndChangesOnlyTheTimeOf(int seed)
    {
        var random = new Random(seed);
        var state = ChangeDetector.Apply(null, RandomObservation(random, 0)).State;
        for (var day = 1; day <= 20; day++)
        {
            var observation = RandomObservation(random, day);
            var detection = ChangeDetector.Apply(state, observation);
            if (Fingerprint.Of(state).IsRepeatedBy(Fingerprint.Of(observation)))
            {
                Assert.Null(detection.Event);
                Assert.Equal(state with { ObservedAt = observation.ObservedAt }, detection.State);
            }
            state = detection.State;
        }
    }

    /// <summary>Ingest reuses a first observation's fingerprint as its new state's.</summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void AFirstObservationHasTheFingerprintOfTheStateItBecomes(int seed)
    {
        var observation = RandomObservation(new Random(seed), 0);
        Assert.Equal(Fingerprint.Of(observation), Fingerprint.Of(ChangeDetector.Apply(null, observation).State));
    }

    /// <summary>Ingest makes a changed state's fingerprint from the old state's and the observation's, without normalizing again.</summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void AStateMadeOfTheOldOneAndAnObservationHasTheFingerprintMadeOfTheirs(int seed)
    {
        var random = new Random(seed);
        var before = ChangeDetector.Apply(null, RandomObservation(random, 0)).State;
        for (var day = 1; day <= 20; day++)
        {
            var observation = RandomObservation(random, day);
            var state = ChangeDetector.Apply(before, observation).State;
            Assert.Equal(Fingerprint.Of(state), Fingerprint.Of(state, before, Fingerprint.Of(before), observation, Fingerprint.Of(observation)));
            before = state;
        }
    }
}
