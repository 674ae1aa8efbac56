using ProspectEvents.Detection;
using ProspectEvents.Server.Ingest;

namespace ProspectEvents.Tests.Ingest;

/// <summary>Ids are read case-insensitively: a feed writing them in capitals names the same prospects and employers.</summary>
public sealed class ObservationParserTests
{
    private static Observation Parse(string json)
    {
        Assert.True(ObservationParser.TryParseJson(System.Text.Encoding.UTF8.GetBytes(json), out var observation, out var error), error);
        return observation!;
    }

    [Fact]
    public void AProspectIdInCapitalsIsReadAsItsLowercaseForm()
    {
        var observation = Parse("""{"prospect_id":" 20AE6CBF564EE683E66685E429844A5FF8FFC30F ","observed_at":"2026-11-01T08:00:00Z"}""");
        Assert.Equal("20ae6cbf564ee683e66685e429844a5ff8ffc30f", observation.ProspectId);
    }

    [Fact]
    public void ACompanyIdInCapitalsIsReadAsItsLowercaseForm()
    {
        var observation = Parse("""{"prospect_id":"20ae6cbf564ee683e66685e429844a5ff8ffc30f","observed_at":"2026-11-01T08:00:00Z","company_id":"8ADCE3CA1CEF0C986B22310E369A0793"}""");
        Assert.Equal("8adce3ca1cef0c986b22310e369a0793", observation.CompanyId);
    }

    [Fact]
    public void AFieldMissingFromALineIsUnknownEvenWhenTheLineBeforeHadIt()
    {
        Parse("""{"prospect_id":"20ae6cbf564ee683e66685e429844a5ff8ffc30f","observed_at":"2026-11-01T08:00:00Z","company_name":"Acme","job_title":"CEO"}""");
        var next = Parse("""{"prospect_id":"20ae6cbf564ee683e66685e429844a5ff8ffc30f","observed_at":"2026-12-01T08:00:00Z"}""");
        Assert.Null(next.CompanyName);
        Assert.Null(next.JobTitle);
    }
}
