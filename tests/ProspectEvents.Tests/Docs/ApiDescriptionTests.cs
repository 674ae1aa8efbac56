using System.Text.Json;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Docs;

/// <summary>The OpenAPI document and docs UI tell clients the real rules.</summary>
public sealed class ApiDescriptionTests : IAsyncLifetime
{
    private ServerUnderTest _server = null!;
    private JsonElement _document;

    public async Task InitializeAsync()
    {
        _server = await ServerUnderTest.StartAsync(Backend.Sqlite);
        using var client = _server.Client(null);
        _document = await (await client.GetAsync("/openapi/v1.json")).ExpectAsync(200);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private JsonElement Resolve(JsonElement schema) =>
        schema.TryGetProperty("$ref", out var reference)
            ? _document.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!.Split('/')[^1])
            : schema;

    private JsonElement RequestSchema(string method) =>
        Resolve(_document.GetProperty("paths").GetProperty("/v1/prospects/events/enrollments").GetProperty(method)
            .GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema"));

    [Fact]
    public void EveryEnrollmentMethodIsDescribed()
    {
        var path = _document.GetProperty("paths").GetProperty("/v1/prospects/events/enrollments");
        Assert.Equal(["delete", "get", "patch", "post"], path.EnumerateObject().Select(p => p.Name).Order());
        Assert.True(_document.GetProperty("paths").TryGetProperty("/healthz", out _));
        Assert.True(_document.GetProperty("paths").TryGetProperty("/readyz", out _));
    }

    [Fact]
    public void ThePostBodyCarriesTheRealConstraints()
    {
        var properties = RequestSchema("post").GetProperty("properties");

        Assert.Equal(["enrollment_key", "event_types", "prospect_ids"], RequestSchema("post").GetProperty("required").EnumerateArray().Select(e => e.GetString()).Order());
        Assert.Equal(4, properties.GetProperty("enrollment_key").GetProperty("minLength").GetInt32());
        var prospectIds = properties.GetProperty("prospect_ids");
        Assert.Equal(1, prospectIds.GetProperty("minItems").GetInt32());
        Assert.Equal(20, prospectIds.GetProperty("maxItems").GetInt32());
        Assert.Equal("^[0-9a-f]{40}$", prospectIds.GetProperty("items").GetProperty("pattern").GetString());
        var eventTypes = properties.GetProperty("event_types");
        Assert.Equal(1, eventTypes.GetProperty("minItems").GetInt32());
        Assert.Equal(["prospect_changed_role", "prospect_changed_company", "prospect_job_start_anniversary"],
            Resolve(eventTypes.GetProperty("items")).GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        var ttl = properties.GetProperty("ttl_days");
        Assert.Equal(1, ttl.GetProperty("minimum").GetInt32());
        Assert.Equal(3650, ttl.GetProperty("maximum").GetInt32());
    }

    [Fact]
    public void TheFetchBodyCarriesItsConstraints()
    {
        var schema = Resolve(_document.GetProperty("paths").GetProperty("/v1/prospects/events").GetProperty("post")
            .GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema"));
        var prospectIds = schema.GetProperty("properties").GetProperty("prospect_ids");
        Assert.Equal(40, prospectIds.GetProperty("maxItems").GetInt32());
        Assert.Equal("^[0-9a-f]{40}$", prospectIds.GetProperty("items").GetProperty("pattern").GetString());
        Assert.Equal(["event_types", "prospect_ids"], schema.GetProperty("required").EnumerateArray().Select(e => e.GetString()).Order());
        Assert.True(_document.GetProperty("paths").TryGetProperty("/v1/admin/observations", out _));
    }

    [Fact]
    public void ValidationErrorsAreDescribedInTheFastApiShape()
    {
        var response = _document.GetProperty("paths").GetProperty("/v1/prospects/events/enrollments").GetProperty("post").GetProperty("responses").GetProperty("422");
        var body = Resolve(response.GetProperty("content").GetProperty("application/json").GetProperty("schema"));
        var item = Resolve(body.GetProperty("properties").GetProperty("detail").GetProperty("items"));
        Assert.Equal(["input", "loc", "msg", "type"], item.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order());
    }

    [Fact]
    public void TheStatsListTheLatestEventsWithTheirMatchCounts()
    {
        var stats = Resolve(_document.GetProperty("paths").GetProperty("/v1/admin/stats").GetProperty("get").GetProperty("responses").GetProperty("200")
            .GetProperty("content").GetProperty("application/json").GetProperty("schema")).GetProperty("properties");
        Assert.True(stats.TryGetProperty("event_matches", out _));
        Assert.True(stats.TryGetProperty("unindexed_enrollments", out _));
        var recent = Resolve(stats.GetProperty("recent_events").GetProperty("items")).GetProperty("properties");
        Assert.Equal(["detected_at", "event_id", "event_name", "matches", "prospect_id"], recent.EnumerateObject().Select(p => p.Name).Order());
    }

    [Fact]
    public void TheApiKeyHeaderIsTheSecurityScheme()
    {
        var scheme = _document.GetProperty("components").GetProperty("securitySchemes").GetProperty("api_key");
        Assert.Equal("apiKey", scheme.GetProperty("type").GetString());
        Assert.Equal("header", scheme.GetProperty("in").GetString());
        Assert.Equal("api_key", scheme.GetProperty("name").GetString());
    }

    [Fact]
    public async Task TheDocsUiIsServed()
    {
        using var client = _server.Client(null);
        var response = await client.GetAsync("/docs");
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET /docs answered {(int)response.StatusCode}");
        Assert.Contains("<html", html, StringComparison.OrdinalIgnoreCase);
        // Scalar resolves the document against the app's base path in the browser.
        Assert.Contains("\"url\":\"openapi/v1.json\"", html);
        Assert.Equal(200, (int)(await client.GetAsync("/docs/scalar.js")).StatusCode);
    }

    [Fact]
    public async Task The_docs_page_calls_no_hosted_service()
    {
        using var client = _server.Client(null);
        var html = await (await client.GetAsync("/docs")).Content.ReadAsStringAsync();
        // Every absolute URL the page names: none may point off this server (a CDN, a font host, an AI agent, a proxy).
        var hosts = System.Text.RegularExpressions.Regex.Matches(html, @"(?:https?:)?//[A-Za-z0-9.-]+").Select(m => m.Value).ToList();
        Assert.Empty(hosts);
        Assert.Contains("<script src=\"scalar.js\">", html);
        foreach (var setting in new[] { "\"agent\":{\"disabled\":true}", "\"mcp\":{\"disabled\":true}", "\"telemetry\":false", "\"withDefaultFonts\":false",
                     "\"showDeveloperTools\":\"never\"", "\"hideClientButton\":true" })
            Assert.Contains(setting, html);
    }

    [Fact]
    public async Task HealthAndReadinessAnswer()
    {
        using var client = _server.Client(null);
        Assert.Equal("ok", (await (await client.GetAsync("/healthz")).ExpectAsync(200)).GetProperty("status").GetString());
        Assert.Equal("ready", (await (await client.GetAsync("/readyz")).ExpectAsync(200)).GetProperty("status").GetString());
    }
}
