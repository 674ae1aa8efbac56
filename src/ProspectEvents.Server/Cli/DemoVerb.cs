using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ProspectEvents.Server.Cli;

/// <summary>The <c>demo</c> verb: prints the quick start's sample feed, its prospect ids, an enrollment for them, or what it planted.</summary>
public static class DemoVerb
{
    public const string EnrollmentKey = "demo";

    /// <summary>The most prospect ids one v1 enrollment request takes.</summary>
    public const int MaxEnrollmentIds = 20;

    // Names such as "Chloé Müller" printed as they are, not as \u escapes.
    private static readonly JsonSerializerOptions Readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create(TextWriter output, TextWriter error)
    {
        var prospects = new Option<int>("--prospects") { Description = "How many prospects the feed follows.", DefaultValueFactory = _ => 20 };
        prospects.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 100_000) r.AddError("--prospects must be between 1 and 100,000."); });
        var seed = new Option<int>("--seed") { Description = "Another seed, other people and stories.", DefaultValueFactory = _ => 1 };
        var date = new Option<DateOnly?>("--date") { Description = "The day the anniversaries fall on, YYYY-MM-DD (default today, UTC); the snapshots lead up to it." };
        var ids = new Option<bool>("--ids") { Description = "Print the prospect ids, one a line, instead of the feed." };
        var enrollment = new Option<bool>("--enrollment") { Description = $"Print a v1 enrollment body for the prospects (up to {MaxEnrollmentIds}), every event type." };
        var expected = new Option<bool>("--expected") { Description = "Print the events the feed is built to produce, one JSON object a line." };
        var command = new Command("demo", "Print a sample feed (NDJSON, as ingest reads it) with real-looking company changes, promotions, "
            + "anniversaries on the demo date and rewordings that are no event.") { prospects, seed, date, ids, enrollment, expected };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var day = parsed.GetValue(date) ?? DateOnly.FromDateTime(TimeProvider.System.GetUtcNow().UtcDateTime);
            var feed = DemoFeed.Create(parsed.GetValue(prospects), parsed.GetValue(seed), day);
            if (parsed.GetValue(ids))
            {
                foreach (var id in feed.ProspectIds) await output.WriteLineAsync(id);
            }
            else if (parsed.GetValue(enrollment))
            {
                var all = feed.ProspectIds.ToList();
                if (all.Count > MaxEnrollmentIds)
                {
                    await error.WriteLineAsync($"error: a v1 enrollment takes up to {MaxEnrollmentIds} prospect ids; use --prospects {MaxEnrollmentIds} or fewer, or enroll --ids in groups.");
                    return Verbs.CannotStartExit;
                }
                await output.WriteLineAsync(new JsonObject
                {
                    ["enrollment_key"] = EnrollmentKey,
                    ["event_types"] = new JsonArray([.. EventTypeNames.All.Select(n => JsonValue.Create(n))]),
                    ["prospect_ids"] = new JsonArray([.. all.Select(i => JsonValue.Create(i))]),
                }.ToJsonString());
            }
            else if (parsed.GetValue(expected))
            {
                foreach (var e in feed.Planted)
                {
                    await output.WriteLineAsync(new JsonObject
                    {
                        ["prospect_id"] = e.ProspectId, ["event_name"] = e.EventName, ["full_name"] = e.FullName, ["what"] = e.What,
                    }.ToJsonString(Readable));
                }
            }
            else
            {
                foreach (var line in feed.NdjsonLines()) await output.WriteLineAsync(line);
                await error.WriteLineAsync(Summary(feed));
            }
            return 0;
        });
        return command;
    }

    private static string Summary(DemoFeed feed)
    {
        int Count(string name) => feed.Planted.Count(p => p.EventName == name);
        var date = feed.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        return $"demo: {feed.ProspectIds.Count()} prospects, {feed.Observations.Count} observations in 3 snapshots; planted "
            + $"{Count(EventTypeNames.ChangedCompany)} company changes, {Count(EventTypeNames.ChangedRole)} role changes and "
            + $"{Count(EventTypeNames.JobStartAnniversary)} anniversaries on {date} (sweep them with `anniversaries --date {date}`); "
            + "the rest only reword their profiles or stay the same. `demo --expected` lists the events.";
    }
}
