using System.Text.Json;
using ProspectEvents.Detection;

namespace ProspectEvents.Tests.Detection;

/// <summary>The detection rules of docs/detection.md, one behaviour per test.</summary>
public sealed class ChangeDetectorTests
{
    private const string Dana = "20ae6cbf564ee683e66685e429844a5ff8ffc30f";
    private static readonly DateTimeOffset Day1 = new(2026, 1, 1, 8, 0, 0, TimeSpan.Zero);

    private static Observation At(int day, string? company = "Acme", string? title = "VP Sales", string? companyId = null, string? domain = null, string? start = null) =>
        new(Dana, Day1.AddDays(day - 1), FullName: "Dana Levi", JobTitle: title, CompanyId: companyId, CompanyName: company, CompanyDomain: domain,
            JobStartDate: JobStartDate.TryParse(start, out var s) ? s : null, LinkedinUrl: "https://www.linkedin.com/in/dana-levi");

    private static List<CareerEvent> Run(params Observation[] observations)
    {
        ProspectState? state = null;
        var events = new List<CareerEvent>();
        foreach (var o in observations)
        {
            var detection = ChangeDetector.Apply(state, o);
            state = detection.State;
            if (detection.Event is { } e) events.Add(e);
        }
        return events;
    }

    [Fact]
    public void TheFirstObservationIsASilentBaseline()
    {
        var detection = ChangeDetector.Apply(null, At(1));
        Assert.Null(detection.Event);
        Assert.False(detection.Stale);
        Assert.Equal("Acme", detection.State.CompanyName);
    }

    [Fact]
    public void AMoveToAnotherCompanyIsACompanyChange()
    {
        var e = Assert.Single(Run(At(1, "Acme"), At(2, "Globex")));
        Assert.Equal(EventTypeNames.ChangedCompany, e.EventName);
        var data = Assert.IsType<ChangeEventData>(e.Data);
        Assert.Equal(("Acme", "Globex"), (data.PreviousCompanyName, data.CurrentCompanyName));
    }

    [Theory]
    [InlineData("Acme, Inc.")] [InlineData("Acme Incorporated")] [InlineData("ACME LLC")] [InlineData("Acme L.L.C.")] [InlineData("Acme Ltd")]
    [InlineData("Acme Limited")] [InlineData("Acme GmbH")] [InlineData("Acme Corp.")] [InlineData("Acme Corporation")] [InlineData("Acme Co.")]
    [InlineData("Acme plc")] [InlineData("Acme S.A.")] [InlineData("Acme AG")] [InlineData("Acme B.V.")] [InlineData("Acme N.V.")]
    [InlineData("Acme Pty Ltd")] [InlineData("Acme LLP")] [InlineData("Acme Company")]
    public void ALegalSuffixIsNotACompanyChange(string renamed) => Assert.Empty(Run(At(1, "Acme"), At(2, renamed)));

    [Theory]
    [InlineData("acme")] [InlineData("  ACME ")] [InlineData("Acme.")] [InlineData("A.C.M.E.")]
    public void CaseSpacingAndPunctuationAreNotACompanyChange(string renamed) => Assert.Empty(Run(At(1, "Acme"), At(2, renamed)));

    [Fact]
    public void AmpersandAndTheWordAndNameTheSameCompany() => Assert.Empty(Run(At(1, "Procter & Gamble"), At(2, "Procter and Gamble Co.")));

    [Fact]
    public void CompanyIdsDecideWhenBothSidesHaveOne()
    {
        const string id = "8adce3ca1cef0c986b22310e369a0793";
        Assert.Empty(Run(At(1, "Acme", companyId: id), At(2, "Totally Renamed", companyId: id.ToUpperInvariant())));
        Assert.Single(Run(At(1, "Acme", companyId: id), At(2, "Acme", companyId: "00000000000000000000000000000001")));
    }

    [Theory]
    [InlineData("https://www.acme.com/about")] [InlineData("ACME.com")] [InlineData("http://acme.com:443")] [InlineData("www.acme.com.")]
    public void DomainsDecideWithoutIdsAndIgnoreSchemeWwwPathAndCase(string domain) =>
        Assert.Empty(Run(At(1, "Acme", domain: "acme.com"), At(2, "Acme Holdings", domain: domain)));

    [Fact]
    public void ADifferentDomainIsACompanyChangeEvenUnderTheSameName() =>
        Assert.Single(Run(At(1, "Acme", domain: "acme.com"), At(2, "Acme", domain: "acme.io")));

    [Fact]
    public void ATitleChangeAtTheSameEmployerIsARoleChange()
    {
        var e = Assert.Single(Run(At(1, title: "VP Sales"), At(2, title: "Chief Revenue Officer")));
        Assert.Equal(EventTypeNames.ChangedRole, e.EventName);
        var data = Assert.IsType<ChangeEventData>(e.Data);
        Assert.Equal(("VP Sales", "Chief Revenue Officer"), (data.PreviousJobTitle, data.CurrentJobTitle));
    }

    [Fact]
    public void TitleReformattingIsNotARoleChange() => Assert.Empty(Run(At(1, title: "Sr. Software Eng."), At(2, title: "Senior Software Engineer")));

    [Theory]
    [MemberData(nameof(AbbreviationCases))]
    public void EachAbbreviationEqualsItsExpansion(string abbreviation, string expansion) =>
        Assert.Empty(Run(At(1, title: $"{abbreviation} of things"), At(2, title: $"{expansion} of things")));

    public static TheoryData<string, string> AbbreviationCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var (abbreviation, expansion) in TitleNormalizer.Abbreviations) data.Add(abbreviation.ToUpperInvariant() + ".", expansion);
        return data;
    }

    [Fact]
    public void AmpersandInATitleIsTheWordAnd() => Assert.Empty(Run(At(1, title: "Sales & Marketing Director"), At(2, title: "Sales and Marketing Director")));

    [Fact]
    public void ACompanyChangeWithANewTitleIsOneCompanyEvent()
    {
        var e = Assert.Single(Run(At(1, "Acme", "VP Sales"), At(2, "Globex", "CEO")));
        Assert.Equal(EventTypeNames.ChangedCompany, e.EventName);
        Assert.Equal("CEO", ((ChangeEventData)e.Data).CurrentJobTitle);
    }

    [Theory]
    [InlineData(null)] [InlineData("")] [InlineData("  ")]
    public void AMissingTitleIsNotAChangeAndNeitherIsItsReturn(string? missing) =>
        Assert.Empty(Run(At(1, title: "VP Sales"), At(2, title: missing), At(3, title: "VP Sales")));

    [Theory]
    [InlineData(null)] [InlineData("")] [InlineData("  ")]
    public void AMissingCompanyIsNotAChangeAndNeitherIsItsReturn(string? missing) =>
        Assert.Empty(Run(At(1, "Acme"), At(2, missing), At(3, "Acme")));

    [Fact]
    public void ATitleSeenWithoutAnEmployerIsNotJudged() =>
        Assert.Empty(Run(At(1, "Acme", "VP Sales"), At(2, null, "Barista"), At(3, "Acme", "VP Sales")));

    [Fact]
    public void TheFirstEmployerLearnedIsABaselineNotAMove() => Assert.Empty(Run(At(1, null, null), At(2, "Acme", "VP Sales")));

    [Fact]
    public void ARepeatedSnapshotAdvancesTheStateAndTakesNewPersonalDetails()
    {
        var first = ChangeDetector.Apply(null, At(1)).State;
        var repeat = ChangeDetector.Apply(first, At(2) with { FullName = "Dana Levi-Cohen", JobStartDate = null });
        Assert.Null(repeat.Event);
        Assert.Equal(Day1.AddDays(1), repeat.State.ObservedAt);
        Assert.Equal("Dana Levi-Cohen", repeat.State.FullName);
        Assert.Equal(("Acme", "VP Sales"), (repeat.State.CompanyName, repeat.State.JobTitle));
    }

    [Fact]
    public void ANewStartDateAtTheSameJobIsKeptWithoutAnEvent()
    {
        var first = ChangeDetector.Apply(null, At(1, start: "2024-03")).State;
        var corrected = ChangeDetector.Apply(first, At(2, start: "2024-03-15"));
        Assert.Null(corrected.Event);
        Assert.Equal("2024-03-15", corrected.State.JobStartDate.ToString());
    }

    [Fact]
    public void ABoomerangGivesTwoCompanyEventsWithDistinctIds()
    {
        var events = Run(At(1, "Acme"), At(2, "Globex"), At(3, "Acme"));
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.Equal(EventTypeNames.ChangedCompany, e.EventName));
        Assert.NotEqual(events[0].EventId, events[1].EventId);
    }

    [Fact]
    public void ALateOlderSnapshotIsStaleAndGivesNothing()
    {
        var current = ChangeDetector.Apply(ChangeDetector.Apply(null, At(1, "Acme")).State, At(5, "Acme")).State;
        var late = ChangeDetector.Apply(current, At(3, "Globex"));
        Assert.True(late.Stale);
        Assert.Null(late.Event);
        Assert.Same(current, late.State);
    }

    [Fact]
    public void ADuplicateLineGivesNothing()
    {
        var (_, events, stale) = ChangeDetector.ApplyAll(null, [At(1, "Acme"), At(2, "Globex"), At(2, "Globex")]);
        Assert.Single(events);
        Assert.Equal(1, stale);
    }

    [Fact]
    public void ObservationsOfABatchAreAppliedInTimeOrder()
    {
        var (state, events, _) = ChangeDetector.ApplyAll(null, [At(3, "Initech"), At(1, "Acme"), At(2, "Globex")]);
        Assert.Equal(["Globex", "Initech"], events.Select(e => ((ChangeEventData)e.Data).CurrentCompanyName));
        Assert.Equal("Initech", state!.CompanyName);
    }

    [Fact]
    public void ReapplyingTheSameObservationsGivesNothingNew()
    {
        Observation[] feed = [At(1, "Acme"), At(2, "Globex"), At(3, "Globex", "CEO")];
        var (state, events, _) = ChangeDetector.ApplyAll(null, feed);
        var (_, again, stale) = ChangeDetector.ApplyAll(state, feed);
        Assert.Equal(2, events.Count);
        Assert.Empty(again);
        Assert.Equal(3, stale);
    }

    [Fact]
    public void EventIdsAreDeterministic32Hex()
    {
        var first = Run(At(1, "Acme"), At(2, "Globex"));
        var second = Run(At(1, "Acme"), At(2, "Globex"));
        Assert.Matches("^[0-9a-f]{32}$", first[0].EventId);
        Assert.Equal(first[0].EventId, second[0].EventId);
    }

    [Fact]
    public void TheEventTimeIsTheNewJobsStartWhenItFallsBetweenTheSnapshots()
    {
        var e = Assert.Single(Run(At(1, "Acme"), At(30, "Globex", start: "2026-01-15")));
        Assert.Equal(new DateTimeOffset(2026, 1, 15, 0, 0, 0, TimeSpan.Zero), e.EventTime);
        Assert.Equal(Day1.AddDays(29), e.ObservedAt);
    }

    [Theory]
    [InlineData("2025-06-01")] // before the previous snapshot
    [InlineData("2026-03-01")] // after the current one
    [InlineData("2026-01")]    // month only
    public void OtherwiseTheEventTimeIsWhenTheChangeWasSeen(string start)
    {
        var e = Assert.Single(Run(At(1, "Acme"), At(30, "Globex", start: start)));
        Assert.Equal(Day1.AddDays(29), e.EventTime);
    }

    [Fact]
    public void ChangeDataCarriesTheAnchorsFieldNames()
    {
        var e = Assert.Single(Run(At(1, "Acme"), At(2, "Globex")));
        var json = JsonSerializer.SerializeToElement(e.Data, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower });
        Assert.Equal(["previous_job_title", "current_job_title", "previous_company_name", "previous_company_id", "current_company_name", "current_company_id", "event_time"],
            json.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void ARewordedCompanyNameOrTitleKeepsTheStoredText()
    {
        var state = ChangeDetector.Apply(null, At(1, company: "Acme", title: "VP Sales")).State;
        var detection = ChangeDetector.Apply(state, At(2, company: "ACME, Inc.", title: "Vice President, Sales"));
        Assert.Null(detection.Event);
        Assert.Equal(("Acme", "VP Sales"), (detection.State.CompanyName, detection.State.JobTitle));
    }

    [Fact]
    public void ABlankFullNameIsUnknownAndKeepsTheStoredOne()
    {
        var state = ChangeDetector.Apply(null, At(1)).State;
        Assert.Equal("Dana Levi", ChangeDetector.Apply(state, At(2) with { FullName = "  " }).State.FullName);
    }
}
