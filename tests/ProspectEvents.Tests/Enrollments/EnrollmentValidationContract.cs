using System.Text.Json;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.Enrollments;

/// <summary>Every validation rule answers a FastAPI-shaped 422 at the right location and leaves the database as it was.</summary>
public abstract class EnrollmentValidationContract(Backend backend) : IAsyncLifetime
{
    private const string Good = "20ae6cbf564ee683e66685e429844a5ff8ffc30f";
    private static readonly string TwentyOne = string.Join(",", Enumerable.Range(1, 21).Select(i => $"\"{i:x40}\""));

    private ServerUnderTest _server = null!;

    public async Task InitializeAsync() => _server = await ServerUnderTest.StartAsync(backend);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>Rule name, POST body, expected loc (JSON), expected type.</summary>
    public static TheoryData<string, string, string, string> PostRules => new()
    {
        { "key missing", $$"""{"event_types":["prospect_changed_role"],"prospect_ids":["{{Good}}"]}""", """["body","enrollment_key"]""", "missing" },
        { "key too short", $$"""{"enrollment_key":"abc","event_types":["prospect_changed_role"],"prospect_ids":["{{Good}}"]}""", """["body","enrollment_key"]""", "string_too_short" },
        { "key too long", $$"""{"enrollment_key":"{{new string('k', 257)}}","event_types":["prospect_changed_role"],"prospect_ids":["{{Good}}"]}""", """["body","enrollment_key"]""", "string_too_long" },
        { "key not a string", $$"""{"enrollment_key":12345,"event_types":["prospect_changed_role"],"prospect_ids":["{{Good}}"]}""", """["body","enrollment_key"]""", "string_type" },
        { "event types missing", $$"""{"enrollment_key":"abcd","prospect_ids":["{{Good}}"]}""", """["body","event_types"]""", "missing" },
        { "event types empty", $$"""{"enrollment_key":"abcd","event_types":[],"prospect_ids":["{{Good}}"]}""", """["body","event_types"]""", "too_short" },
        { "event types not a list", $$"""{"enrollment_key":"abcd","event_types":"prospect_changed_role","prospect_ids":["{{Good}}"]}""", """["body","event_types"]""", "list_type" },
        { "event type unknown", $$"""{"enrollment_key":"abcd","event_types":["prospect_changed_role","prospect_got_promoted"],"prospect_ids":["{{Good}}"]}""", """["body","event_types",1]""", "enum" },
        { "prospect ids missing", """{"enrollment_key":"abcd","event_types":["prospect_changed_role"]}""", """["body","prospect_ids"]""", "missing" },
        { "prospect ids empty", """{"enrollment_key":"abcd","event_types":["prospect_changed_role"],"prospect_ids":[]}""", """["body","prospect_ids"]""", "too_short" },
        { "prospect ids over 20", $$"""{"enrollment_key":"abcd","event_types":["prospect_changed_role"],"prospect_ids":[{{TwentyOne}}]}""", """["body","prospect_ids"]""", "too_long" },
        { "prospect id uppercase", $$"""{"enrollment_key":"abcd","event_types":["prospect_changed_role"],"prospect_ids":["{{Good}}","{{Good.ToUpperInvariant()}}"]}""", """["body","prospect_ids",1]""", "string_pattern_mismatch" },
        { "prospect id too short", $$"""{"enrollment_key":"abcd","event_types":["prospect_changed_role"],"prospect_ids":["{{Good[..39]}}"]}""", """["body","prospect_ids",0]""", "string_pattern_mismatch" },
        { "prospect id not a string", """{"enrollment_key":"abcd","event_types":["prospect_changed_role"],"prospect_ids":[42]}""", """["body","prospect_ids",0]""", "string_type" },
        { "ttl below 1", $$"""{"enrollment_key":"abcd","event_types":["prospect_changed_role"],"prospect_ids":["{{Good}}"],"ttl_days":0}""", """["body","ttl_days"]""", "greater_than_equal" },
        { "ttl above 3650", $$"""{"enrollment_key":"abcd","event_types":["prospect_changed_role"],"prospect_ids":["{{Good}}"],"ttl_days":3651}""", """["body","ttl_days"]""", "less_than_equal" },
        { "ttl fractional", $$"""{"enrollment_key":"abcd","event_types":["prospect_changed_role"],"prospect_ids":["{{Good}}"],"ttl_days":1.5}""", """["body","ttl_days"]""", "int_from_float" },
        { "ttl not a number", $$"""{"enrollment_key":"abcd","event_types":["prospect_changed_role"],"prospect_ids":["{{Good}}"],"ttl_days":"soon"}""", """["body","ttl_days"]""", "int_parsing" },
        { "ttl boolean", $$"""{"enrollment_key":"abcd","event_types":["prospect_changed_role"],"prospect_ids":["{{Good}}"],"ttl_days":true}""", """["body","ttl_days"]""", "int_type" },
        { "request context not an object", $$"""{"enrollment_key":"abcd","event_types":["prospect_changed_role"],"prospect_ids":["{{Good}}"],"request_context":"crm"}""", """["body","request_context"]""", "dict_type" },
        { "unknown field", $$"""{"enrollment_key":"abcd","event_types":["prospect_changed_role"],"prospect_ids":["{{Good}}"],"partner_id":"pa_1"}""", """["body","partner_id"]""", "extra_forbidden" },
        { "malformed JSON", """{"enrollment_key":"abcd",""", """["body"]""", "json_invalid" },
        { "empty body", "", """["body"]""", "json_invalid" },
        { "not an object", """["abcd"]""", """["body"]""", "model_attributes_type" },
    };

    [Theory]
    [MemberData(nameof(PostRules))]
    public async Task AnInvalidPostIsRejectedAtTheRightLocationAndChangesNothing(string rule, string body, string loc, string type)
    {
        using var client = _server.Client(_server.AdminKey);
        var before = await DatabaseSnapshot.TakeAsync(_server.Store);

        var error = await (await client.PostJsonAsync(EnrollmentsPath, body)).ExpectAsync(422);

        var problem = Assert.Single(error.GetProperty("detail").EnumerateArray());
        Assert.True(loc == problem.GetProperty("loc").GetRawText(), $"{rule}: loc {problem.GetProperty("loc")}");
        Assert.Equal(type, problem.GetProperty("type").GetString());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("msg").GetString()));
        Assert.Equal(before, await DatabaseSnapshot.TakeAsync(_server.Store));
    }

    [Fact]
    public async Task EveryProblemOfOneRequestIsReportedTogether()
    {
        using var client = _server.Client(_server.AdminKey);

        var error = await (await client.PostJsonAsync(EnrollmentsPath, """{"enrollment_key":"ab","event_types":[],"prospect_ids":["nope"],"color":"red"}""")).ExpectAsync(422);

        var locs = error.GetProperty("detail").EnumerateArray().Select(p => p.GetProperty("loc").GetRawText()).ToArray();
        Assert.Equal(["""["body","enrollment_key"]""", """["body","event_types"]""", """["body","prospect_ids",0]""", """["body","color"]"""], locs);
    }

    public static TheoryData<string, string, string, string> PatchAndDeleteRules => new()
    {
        { "PATCH", $$"""{"enrollment_key":"abcd","event_types":["prospect_changed_role"],"prospect_ids":["{{Good}}"]}""", """["body","enrollment_id"]""", "missing" },
        { "PATCH", $$"""{"enrollment_id":"en_0000000000000000","enrollment_key":"abcd","event_types":["prospect_changed_role"],"prospect_ids":[]}""", """["body","prospect_ids"]""", "too_short" },
        { "PATCH", $$"""{"enrollment_id":"en_0000000000000000","enrollment_key":"abcd","event_types":["prospect_changed_role"]}""", """["body","prospect_ids"]""", "missing" },
        { "DELETE", "{}", """["body","enrollment_id"]""", "missing" },
        { "DELETE", """{"enrollment_id":"en_0000000000000000","force":true}""", """["body","force"]""", "extra_forbidden" },
        { "DELETE", """{"enrollment_id":7}""", """["body","enrollment_id"]""", "string_type" },
    };

    [Theory]
    [MemberData(nameof(PatchAndDeleteRules))]
    public async Task AnInvalidPatchOrDeleteIsRejectedAndChangesNothing(string method, string body, string loc, string type)
    {
        using var client = _server.Client(_server.AdminKey);
        var created = await (await client.PostJsonAsync(EnrollmentsPath, $$"""{"enrollment_key":"keep","event_types":["prospect_changed_role"],"prospect_ids":["{{Good}}"]}""")).ExpectAsync(200);
        var before = await DatabaseSnapshot.TakeAsync(_server.Store);

        var error = await (await client.SendJsonAsync(new HttpMethod(method), EnrollmentsPath, body.Replace("en_0000000000000000", created.GetProperty("enrollment_id").GetString(), StringComparison.Ordinal))).ExpectAsync(422);

        var problem = Assert.Single(error.GetProperty("detail").EnumerateArray());
        Assert.Equal(loc, problem.GetProperty("loc").GetRawText());
        Assert.Equal(type, problem.GetProperty("type").GetString());
        Assert.Equal(before, await DatabaseSnapshot.TakeAsync(_server.Store));
    }

    [Fact]
    public async Task ValidationMessagesSpeakPydantic()
    {
        using var client = _server.Client(_server.AdminKey);
        var error = await (await client.PostJsonAsync(EnrollmentsPath, $$"""{"enrollment_key":"abc","event_types":["x"],"prospect_ids":["{{Good}}"]}""")).ExpectAsync(422);

        var messages = error.GetProperty("detail").EnumerateArray().Select(p => p.GetProperty("msg").GetString()!).ToArray();
        Assert.Equal([
            "String should have at least 4 characters",
            "Input should be 'prospect_changed_role', 'prospect_changed_company' or 'prospect_job_start_anniversary'",
        ], messages);
        Assert.Equal(JsonValueKind.String, error.GetProperty("detail")[0].GetProperty("input").ValueKind);
    }
}

public sealed class SqliteEnrollmentValidationTests() : EnrollmentValidationContract(Backend.Sqlite);

public sealed class PostgresEnrollmentValidationTests() : EnrollmentValidationContract(Backend.Postgres);
