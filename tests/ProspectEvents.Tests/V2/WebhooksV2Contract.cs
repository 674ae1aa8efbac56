using System.Text.Json;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;
using static ProspectEvents.Tests.V2.V2Json;

namespace ProspectEvents.Tests.V2;

/// <summary>
/// <c>/v2/webhooks</c> as docs/api.md ("Version 2") describes it, over real HTTP, once per backend:
/// webhooks as resources, the legacy v1 webhook among them, deletes with force, rotation, connectivity checks to a real
/// receiver and the v2 delivery-log routes. (Deliveries of detected events to many webhooks are tested elsewhere.)
/// </summary>
public abstract class WebhooksV2Contract(Backend backend) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private ServerUnderTest _server = null!;
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerUnderTest.StartAsync(backend, new Dictionary<string, string?> { ["Webhooks:AllowPrivateNetworks"] = "true" });
        _receiver = await WebhookReceiver.StartAsync(Convert.ToBase64String(new byte[32]));
        _receiver.Clock = _server.Clock;
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private string Url(string path = "hooks") => new Uri(_receiver.BaseUri, path).ToString();

    private static string Path(string webhookId, string rest = "") => $"{WebhooksPath}/{webhookId}{rest}";

    private static async Task<JsonElement> GetAsync(HttpClient client, string webhookId)
    {
        var body = await (await client.GetAsync(Path(webhookId))).ExpectAsync(200);
        AssertV2Context(body);
        AssertNoSecret(body);
        return body;
    }

    private static async Task<JsonElement> PatchAsync(HttpClient client, string webhookId, string json, int status = 200) =>
        await (await client.SendJsonAsync(HttpMethod.Patch, Path(webhookId), json)).ExpectAsync(status);

    private static async Task<string> RegisterV1Async(HttpClient client, string partner, string url) =>
        (await (await client.PostJsonAsync("/v1/webhooks", $$"""{"partner_id":"{{partner}}","webhook_url":"{{url}}"}""")).ExpectAsync(200))
        .GetProperty("webhook_secret").GetString()!;

    private static async Task<string> LegacyIdAsync(HttpClient client) =>
        (await ListWebhooksAsync(client)).Single(w => w.GetProperty("legacy").GetBoolean()).GetProperty("webhook_id").GetString()!;

    private static async Task<string> EnrollAsync(HttpClient client, string key, string webhookId, params string[] prospects)
    {
        var body = await (await client.PostJsonAsync(EnrollmentsV2Path, EnrollmentV2(key, webhookId, prospects, "\"prospect_changed_company\""))).ExpectAsync(201);
        return body.GetProperty("enrollment_id").GetString()!;
    }

    // ---- create ----

    [Fact]
    public async Task CreatingAWebhookAnswers201WithItsIdScopeActiveStatusAndTheSecretInBothForms()
    {
        var (partner, client) = await _server.NewPartnerAsync();

        var response = await client.PostJsonAsync(WebhooksPath, Webhook("crm", Url()));
        var created = await response.ExpectAsync(201);

        AssertV2Context(created);
        var id = created.GetProperty("webhook_id").GetString()!;
        Assert.Matches("^wh_[0-9a-f]{16}$", id);
        Assert.Equal("partner", created.GetProperty("scope").GetProperty("type").GetString());
        Assert.Equal(partner, created.GetProperty("scope").GetProperty("id").GetString());
        Assert.Equal("crm", created.GetProperty("name").GetString());
        Assert.Equal(Url(), created.GetProperty("webhook_url").GetString());
        Assert.Equal("active", created.GetProperty("status").GetString());
        Assert.False(created.GetProperty("legacy").GetBoolean());
        Assert.Equal("json", created.GetProperty("payload_format").GetString());
        Assert.Empty(created.GetProperty("headers").EnumerateArray());
        Assert.Equal(_server.Clock.GetUtcNow(), created.GetProperty("created_at").GetDateTimeOffset());
        Assert.Equal(_server.Clock.GetUtcNow(), created.GetProperty("last_modified_time").GetDateTimeOffset());
        var secret = created.GetProperty("webhook_secret").GetString()!;
        var key = Key(secret);
        Assert.Equal(32, key.Length);
        Assert.Equal("whsec_" + Convert.ToBase64String(key), created.GetProperty("standard_webhooks_secret").GetString());
        Assert.EndsWith(Path(id), response.Headers.Location?.ToString());
    }

    [Fact]
    public async Task CreatingKeepsTheDescriptionHeadersAndPayloadFormatGiven()
    {
        var (_, client) = await _server.NewPartnerAsync();

        var created = await CreateWebhookAsync(client, "with extras", Url(),
            ""","description":"the CRM sync","headers":["X-Team: growth","X-Env: test"],"payload_format":"stringified_json" """);

        Assert.Equal("the CRM sync", created.GetProperty("description").GetString());
        Assert.Equal(["X-Team: growth", "X-Env: test"], created.GetProperty("headers").Strings());
        Assert.Equal("stringified_json", created.GetProperty("payload_format").GetString());
        var read = await GetAsync(client, created.GetProperty("webhook_id").GetString()!);
        Assert.Equal("the CRM sync", read.GetProperty("description").GetString());
        Assert.Equal(["X-Team: growth", "X-Env: test"], read.GetProperty("headers").Strings());
        Assert.Equal("stringified_json", read.GetProperty("payload_format").GetString());
    }

    [Theory]
    [InlineData("""{"webhook_url":"https://93.184.216.34/h"}""", "body.name", "missing")]
    [InlineData("""{"name":"crm"}""", "body.webhook_url", "missing")]
    [InlineData("""{"name":"","webhook_url":"https://93.184.216.34/h"}""", "body.name", "string_too_short")]
    [InlineData("""{"name":"crm","webhook_url":""}""", "body.webhook_url", "string_too_short")]
    [InlineData("""{"name":"crm","webhook_url":"ftp://93.184.216.34/h"}""", "body.webhook_url", "value_error")]
    [InlineData("""{"name":"crm","webhook_url":"https://93.184.216.34/h","payload_format":"xml"}""", "body.payload_format", "enum")]
    [InlineData("""{"name":"crm","webhook_url":"https://93.184.216.34/h","headers":["no colon"]}""", "body.headers.0", "value_error")]
    [InlineData("""{"name":"crm","webhook_url":"https://93.184.216.34/h","partner_id":"P"}""", "body.partner_id", "extra_forbidden")]
    [InlineData("""{"name":"crm","webhook_url":"https://93.184.216.34/h","status":"active"}""", "body.status", "extra_forbidden")]
    public async Task AnInvalidCreateIs422AtTheFieldAndCreatesNothing(string body, string loc, string type)
    {
        var (_, client) = await _server.NewPartnerAsync();

        var error = await (await client.PostJsonAsync(WebhooksPath, body)).ExpectAsync(422);

        var problem = error.GetProperty("detail").EnumerateArray().First();
        Assert.StartsWith(loc, Loc(problem));
        Assert.Equal(type, problem.GetProperty("type").GetString());
        Assert.Empty(await ListWebhooksAsync(client));
    }

    [Fact]
    public async Task AnEleventhWebhookIsAConflictAndCreateNeverOverwrites()
    {
        var (_, client) = await _server.NewPartnerAsync();
        var ids = new List<string>();
        for (var i = 0; i < 10; i++) ids.Add(await CreateWebhookIdAsync(client, $"hook {i}", Url($"h{i}")));

        var error = await (await client.PostJsonAsync(WebhooksPath, Webhook("hook 10", Url("h10")))).ExpectAsync(409);

        Assert.Contains("10", error.GetProperty("detail").GetString());
        Assert.Matches("^[0-9a-f]{32}$", error.GetProperty("correlation_id").GetString());
        var listed = await ListWebhooksAsync(client);
        Assert.Equal(ids.Order(), listed.Select(w => w.GetProperty("webhook_id").GetString()!).Order());
        Assert.Equal(Enumerable.Range(0, 10).Select(i => Url($"h{i}")).Order(), listed.Select(w => w.GetProperty("webhook_url").GetString()!).Order());
    }

    [Fact]
    public async Task ConcurrentCreatesNeverPassTheLimitOrShareAName()
    {
        var (_, client) = await _server.NewPartnerAsync();
        var posts = Enumerable.Range(0, 30).Select(i => client.PostJsonAsync(WebhooksPath, Webhook($"hook {i % 15}", Url($"h{i}"))));

        var responses = await Task.WhenAll(posts);

        Assert.Equal(10, responses.Count(r => (int)r.StatusCode == 201));
        Assert.Equal(20, responses.Count(r => (int)r.StatusCode == 409));
        var names = (await ListWebhooksAsync(client)).Select(w => w.GetProperty("name").GetString()).ToArray();
        Assert.Equal(10, names.Length);
        Assert.Equal(10, names.Distinct().Count());
    }

    [Fact]
    public async Task TheV1WebhookCountsTowardTheTenOnceRegistered()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        for (var i = 0; i < 9; i++) await CreateWebhookIdAsync(client, $"hook {i}", Url($"h{i}"));
        var tenth = await CreateWebhookIdAsync(client, "hook 9", Url("h9"));

        // Ten v2 webhooks: the v1 registration would be an eleventh.
        await (await client.PostJsonAsync("/v1/webhooks", $$"""{"partner_id":"{{partner}}","webhook_url":"{{Url("v1")}}"}""")).ExpectAsync(409);

        await (await client.DeleteAsync(Path(tenth))).ExpectAsync(200);
        await RegisterV1Async(client, partner, Url("v1"));
        await (await client.PostJsonAsync(WebhooksPath, Webhook("hook 10", Url("h10")))).ExpectAsync(409);
        Assert.Equal(10, (await ListWebhooksAsync(client)).Length);
    }

    [Fact]
    public async Task ATakenNameIsAConflictWithinAPartnerOnly()
    {
        var (_, alice) = await _server.NewPartnerAsync("alice");
        var (_, bob) = await _server.NewPartnerAsync("bob");
        await CreateWebhookAsync(alice, "crm", Url("a"));

        var error = await (await alice.PostJsonAsync(WebhooksPath, Webhook("crm", Url("b")))).ExpectAsync(409);

        Assert.Contains("crm", error.GetProperty("detail").GetString());
        Assert.Equal([Url("a")], (await ListWebhooksAsync(alice)).Select(w => w.GetProperty("webhook_url").GetString()));
        await CreateWebhookAsync(bob, "crm", Url("b"));
    }

    [Fact]
    public async Task AWebhookUrlOfTheAnchorsMaximumLengthIsAcceptedAndOneLongerIsNot()
    {
        var (_, client) = await _server.NewPartnerAsync();
        var prefix = Url("") + "?q=";
        var longest = prefix + new string('a', 65536 - prefix.Length);

        await CreateWebhookAsync(client, "longest", longest);
        var error = await (await client.PostJsonAsync(WebhooksPath, Webhook("too long", longest + "a"))).ExpectAsync(422);

        Assert.Equal(("body.webhook_url", "string_too_long"), Problem(error));
    }

    [Fact]
    public async Task TheLegacyWebhooksNameV1IsNotAvailableToV2Webhooks()
    {
        // Names are unique per partner (docs/api.md, "Version 2"), and the v1 webhook is listed as "v1".
        var (partner, client) = await _server.NewPartnerAsync();
        await (await client.PostJsonAsync(WebhooksPath, Webhook("v1", Url("early")))).ExpectAsync(409);
        await RegisterV1Async(client, partner, Url("v1"));
        var id = await CreateWebhookIdAsync(client, "crm", Url());

        await (await client.PostJsonAsync(WebhooksPath, Webhook("v1", Url("late")))).ExpectAsync(409);
        await PatchAsync(client, id, """{"name":"v1"}""", 409);

        var names = (await ListWebhooksAsync(client)).Select(w => w.GetProperty("name").GetString()).ToArray();
        Assert.Equal(names.Distinct().Count(), names.Length);
    }

    // ---- list and get ----

    [Fact]
    public async Task ListingReturnsEveryWebhookWithoutSecretsOrPagingAndFiltersByStatus()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        var on = await CreateWebhookIdAsync(client, "on", Url("on"));
        _server.Clock.Advance(TimeSpan.FromSeconds(1));
        var off = await CreateWebhookIdAsync(client, "off", Url("off"));
        await PatchAsync(client, off, """{"status":"disabled"}""");

        var body = await (await client.GetAsync(WebhooksPath)).ExpectAsync(200);

        Assert.Equal(["response_context", "webhooks"], body.EnumerateObject().Select(p => p.Name).Order());
        var all = body.GetProperty("webhooks").EnumerateArray().ToArray();
        Assert.Equal([on, off], all.Select(w => w.GetProperty("webhook_id").GetString()));
        Assert.All(all, w => Assert.Equal(partner, w.GetProperty("scope").GetProperty("id").GetString()));
        Assert.All(all, w => Assert.False(w.TryGetProperty("response_context", out _)));
        AssertNoSecret(body);
        Assert.Equal([on], (await ListWebhooksAsync(client, "?status=active")).Select(w => w.GetProperty("webhook_id").GetString()));
        var disabled = Assert.Single(await ListWebhooksAsync(client, "?status=disabled"));
        Assert.Equal(off, disabled.GetProperty("webhook_id").GetString());
        Assert.Equal("disabled", disabled.GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("?status=enabled")]
    [InlineData("?status=paused")]
    [InlineData("?status=")]
    public async Task AStatusFilterOtherThanActiveOrDisabledIs422(string query)
    {
        var (_, client) = await _server.NewPartnerAsync();

        var error = await (await client.GetAsync(WebhooksPath + query)).ExpectAsync(422);

        Assert.Equal(("query.status", "enum"), Problem(error));
    }

    [Fact]
    public async Task GetReadsOneWebhookWithoutItsSecret()
    {
        var (_, client) = await _server.NewPartnerAsync();
        var created = await CreateWebhookAsync(client, "crm", Url(), ""","description":"d" """);
        var id = created.GetProperty("webhook_id").GetString()!;

        var read = await GetAsync(client, id);

        foreach (var field in new[] { "webhook_id", "scope", "name", "description", "webhook_url", "headers", "payload_format", "status", "legacy", "created_at", "last_modified_time" })
            Assert.Equal(created.GetProperty(field).GetRawText(), read.GetProperty(field).GetRawText());
        Assert.False(read.TryGetProperty("webhook_secret", out _));
        Assert.False(read.TryGetProperty("standard_webhooks_secret", out _));
    }

    // ---- the legacy (v1) webhook ----

    [Fact]
    public async Task TheV1WebhookIsListedAsLegacyNamedV1AndReadableById()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        Assert.Empty(await ListWebhooksAsync(client)); // not registered yet: v2 shows nothing
        var secret = await RegisterV1Async(client, partner, Url("v1"));
        await CreateWebhookAsync(client, "crm", Url("v2"));

        var listed = await ListWebhooksAsync(client);

        Assert.Equal(2, listed.Length);
        var legacy = Assert.Single(listed, w => w.GetProperty("legacy").GetBoolean());
        Assert.Equal("v1", legacy.GetProperty("name").GetString());
        Assert.Equal(Url("v1"), legacy.GetProperty("webhook_url").GetString());
        Assert.Equal("active", legacy.GetProperty("status").GetString());
        Assert.Equal(partner, legacy.GetProperty("scope").GetProperty("id").GetString());
        var id = legacy.GetProperty("webhook_id").GetString()!;
        Assert.Matches("^wh_[0-9a-f]{16}$", id);
        var read = await GetAsync(client, id);
        Assert.True(read.GetProperty("legacy").GetBoolean());
        Assert.DoesNotContain(secret, read.GetRawText());
        Assert.Equal([id], (await ListWebhooksAsync(client, "?status=active")).Where(w => w.GetProperty("legacy").GetBoolean()).Select(w => w.GetProperty("webhook_id").GetString()));
    }

    [Fact]
    public async Task TheLegacyWebhookIsReadOnlyInV2AndTheRefusalNamesV1Webhooks()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        var secret = await RegisterV1Async(client, partner, Url("v1"));
        var id = await LegacyIdAsync(client);
        await EnrollAsync(client, "on_legacy", id, Feed.Dana);

        var refusals = new[]
        {
            await client.SendJsonAsync(HttpMethod.Patch, Path(id), """{"name":"renamed"}"""),
            await client.SendJsonAsync(HttpMethod.Patch, Path(id), """{"status":"disabled"}"""),
            await client.DeleteAsync(Path(id)),
            await client.DeleteAsync(Path(id, "?force=true")),
            await client.PostAsync(Path(id, "/rotate_secret"), null),
        };

        foreach (var refusal in refusals)
            Assert.Contains("/v1/webhooks", (await refusal.ExpectAsync(409)).GetProperty("detail").GetString());
        var v1 = await (await client.GetAsync($"/v1/webhooks/{partner}")).ExpectAsync(200);
        Assert.Equal(secret, v1.GetProperty("webhook_secret").GetString());
        Assert.Equal(Url("v1"), v1.GetProperty("webhook_url").GetString());
        Assert.Equal("enabled", v1.GetProperty("status").GetString());
        var read = await GetAsync(client, id);
        Assert.Equal("v1", read.GetProperty("name").GetString());
        Assert.Equal("active", Assert.Single(await ListEnrollmentsV2Async(client)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task CheckConnectivityWorksOnTheLegacyWebhookSignedWithItsSecret()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        _receiver.SetSecret(await RegisterV1Async(client, partner, Url("v1")));
        var id = await LegacyIdAsync(client);

        var report = await (await client.PostAsync(Path(id, "/check_connectivity"), null)).ExpectAsync(200);

        AssertV2Context(report);
        var request = Assert.Single(_receiver.Requests);
        Assert.Equal("/v1", request.Path);
        Assert.True(request.AnchorVerified && request.StandardVerified);
    }

    [Fact]
    public async Task AfterV1DeletesItsWebhookV2NoLongerListsOrReadsIt()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        await RegisterV1Async(client, partner, Url("v1"));
        var id = await LegacyIdAsync(client);

        await (await client.DeleteAsync($"/v1/webhooks/{partner}")).ExpectAsync(200);

        Assert.Empty(await ListWebhooksAsync(client));
        await (await client.GetAsync(Path(id))).ExpectAsync(404);
        await RegisterV1Async(client, partner, Url("again"));
        Assert.Equal(id, await LegacyIdAsync(client)); // the same webhook, registered again
    }

    // ---- patch ----

    [Fact]
    public async Task PatchChangesOnlyTheFieldItNamesAndNeverReturnsTheSecret()
    {
        var (_, client) = await _server.NewPartnerAsync();
        var created = await CreateWebhookAsync(client, "crm", Url("a"), ""","description":"first","headers":["X-Team: a"]""");
        var id = created.GetProperty("webhook_id").GetString()!;
        var secret = created.GetProperty("webhook_secret").GetString()!;
        var expected = new Dictionary<string, string>
        {
            ["name"] = "\"crm\"", ["description"] = "\"first\"", ["webhook_url"] = $"\"{Url("a")}\"",
            ["headers"] = "[\"X-Team: a\"]", ["payload_format"] = "\"json\"", ["status"] = "\"active\"",
        };

        foreach (var (field, value) in new[]
        {
            ("name", "\"renamed\""), ("description", "\"second\""), ("webhook_url", $"\"{Url("b")}\""),
            ("headers", "[\"X-Team: b\",\"X-Env: test\"]"), ("payload_format", "\"stringified_json\""), ("status", "\"disabled\""),
        })
        {
            _server.Clock.Advance(TimeSpan.FromMinutes(1));
            var patched = await PatchAsync(client, id, $$"""{"{{field}}":{{value}}}""");
            expected[field] = value;

            AssertV2Context(patched);
            AssertNoSecret(patched);
            Assert.DoesNotContain(secret, patched.GetRawText());
            var read = await GetAsync(client, id);
            foreach (var (name, json) in expected)
            {
                Assert.Equal(JsonDocument.Parse(json).RootElement.GetRawText(), patched.GetProperty(name).GetRawText());
                Assert.Equal(JsonDocument.Parse(json).RootElement.GetRawText(), read.GetProperty(name).GetRawText());
            }
            Assert.Equal(_server.Clock.GetUtcNow(), read.GetProperty("last_modified_time").GetDateTimeOffset());
            Assert.Equal(created.GetProperty("created_at").GetDateTimeOffset(), read.GetProperty("created_at").GetDateTimeOffset());
            Assert.Equal(id, read.GetProperty("webhook_id").GetString());
        }
    }

    [Fact]
    public async Task PatchingStatusDisabledKeepsTheWebhookAndActiveBringsItBack()
    {
        var (_, client) = await _server.NewPartnerAsync();
        var id = await CreateWebhookIdAsync(client, "crm", Url());

        Assert.Equal("disabled", (await PatchAsync(client, id, """{"status":"disabled"}""")).GetProperty("status").GetString());
        Assert.Equal("disabled", (await GetAsync(client, id)).GetProperty("status").GetString());
        Assert.Equal(id, Assert.Single(await ListWebhooksAsync(client, "?status=disabled")).GetProperty("webhook_id").GetString());

        Assert.Equal("active", (await PatchAsync(client, id, """{"status":"active"}""")).GetProperty("status").GetString());
        Assert.Equal("active", (await GetAsync(client, id)).GetProperty("status").GetString());
        Assert.Empty(await ListWebhooksAsync(client, "?status=disabled"));
    }

    [Fact]
    public async Task AnEmptyPatchChangesNothingButIsAccepted()
    {
        var (_, client) = await _server.NewPartnerAsync();
        var created = await CreateWebhookAsync(client, "crm", Url());
        var id = created.GetProperty("webhook_id").GetString()!;

        var patched = await PatchAsync(client, id, "{}");

        Assert.Equal("crm", patched.GetProperty("name").GetString());
        Assert.Equal(Url(), patched.GetProperty("webhook_url").GetString());
        Assert.Equal("active", patched.GetProperty("status").GetString());
    }

    [Fact]
    public async Task PatchToANameAnotherWebhookHasIsAConflict()
    {
        var (_, client) = await _server.NewPartnerAsync();
        await CreateWebhookIdAsync(client, "first", Url("a"));
        var second = await CreateWebhookIdAsync(client, "second", Url("b"));

        await PatchAsync(client, second, """{"name":"first"}""", 409);

        Assert.Equal("second", (await GetAsync(client, second)).GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("""{"status":"paused"}""", "body.status", "enum")]
    [InlineData("""{"webhook_url":"ftp://93.184.216.34/h"}""", "body.webhook_url", "value_error")]
    [InlineData("""{"payload_format":"xml"}""", "body.payload_format", "enum")]
    [InlineData("""{"name":""}""", "body.name", "string_too_short")]
    [InlineData("""{"secret":"mine"}""", "body.secret", "extra_forbidden")]
    [InlineData("""{"legacy":true}""", "body.legacy", "extra_forbidden")]
    [InlineData("""{"webhook_id":"wh_0000000000000000"}""", "body.webhook_id", "extra_forbidden")]
    public async Task AnInvalidPatchIs422AtTheFieldAndChangesNothing(string body, string loc, string type)
    {
        var (_, client) = await _server.NewPartnerAsync();
        var created = await CreateWebhookAsync(client, "crm", Url());
        var id = created.GetProperty("webhook_id").GetString()!;

        var error = await PatchAsync(client, id, body, 422);

        var problem = error.GetProperty("detail").EnumerateArray().First();
        Assert.Equal(loc, Loc(problem));
        Assert.Equal(type, problem.GetProperty("type").GetString());
        var read = await GetAsync(client, id);
        Assert.Equal("crm", read.GetProperty("name").GetString());
        Assert.Equal("active", read.GetProperty("status").GetString());
        Assert.Equal(created.GetProperty("last_modified_time").GetRawText(), read.GetProperty("last_modified_time").GetRawText());
    }

    // ---- delete ----

    [Fact]
    public async Task DeletingAWebhookThatActiveEnrollmentsUseIsAConflictListingThem()
    {
        var (_, client) = await _server.NewPartnerAsync();
        var id = await CreateWebhookIdAsync(client, "crm", Url());
        var first = await EnrollAsync(client, "first", id, Feed.Dana);
        var second = await EnrollAsync(client, "second", id, Feed.Eli);

        var error = await (await client.DeleteAsync(Path(id))).ExpectAsync(409);

        var detail = error.GetProperty("detail").GetString()!;
        Assert.Contains(first, detail);
        Assert.Contains(second, detail);
        Assert.Contains("force=true", detail);
        await GetAsync(client, id);
        Assert.All(await ListEnrollmentsV2Async(client), e => Assert.Equal("active", e.GetProperty("status").GetString()));
        await (await client.DeleteAsync(Path(id, "?force=false"))).ExpectAsync(409);
    }

    [Fact]
    public async Task AForcedDeletePausesTheEnrollmentsKeepsTheirProspectsAndPatchingAWebhookReactivatesThem()
    {
        var (_, client) = await _server.NewPartnerAsync();
        var doomed = await CreateWebhookIdAsync(client, "doomed", Url("doomed"));
        var other = await CreateWebhookIdAsync(client, "other", Url("other"));
        var first = await EnrollAsync(client, "first", doomed, Feed.Dana, Feed.Eli);
        var second = await EnrollAsync(client, "second", doomed, Feed.Id(3));
        var elsewhere = await EnrollAsync(client, "elsewhere", other, Feed.Id(4));

        var deleted = await (await client.DeleteAsync(Path(doomed, "?force=true"))).ExpectAsync(200);

        AssertV2Context(deleted);
        Assert.Equal(new[] { first, second }.Order(StringComparer.Ordinal), deleted.GetProperty("affected_enrollment_ids").Strings().Order(StringComparer.Ordinal));
        await (await client.GetAsync(Path(doomed))).ExpectAsync(404);
        Assert.Equal([other], (await ListWebhooksAsync(client)).Select(w => w.GetProperty("webhook_id").GetString()));
        var listed = (await ListEnrollmentsV2Async(client)).ToDictionary(e => e.GetProperty("enrollment_id").GetString()!);
        Assert.Equal("paused", listed[first].GetProperty("status").GetString());
        Assert.Equal("paused", listed[second].GetProperty("status").GetString());
        Assert.Equal("active", listed[elsewhere].GetProperty("status").GetString());
        Assert.Equal(new[] { Feed.Dana, Feed.Eli }.Order(), listed[first].GetProperty("prospect_ids").Strings().Order());
        Assert.Equal([Feed.Id(3)], listed[second].GetProperty("prospect_ids").Strings());
        Assert.NotEqual(other, listed[first].GetProperty("webhook_id").GetString()); // never silently re-pointed

        var patched = await (await client.SendJsonAsync(HttpMethod.Patch, $"{EnrollmentsV2Path}/{first}", $$"""{"webhook_id":"{{other}}"}""")).ExpectAsync(200);

        Assert.Equal("active", patched.GetProperty("status").GetString());
        Assert.Equal(other, patched.GetProperty("webhook_id").GetString());
        listed = (await ListEnrollmentsV2Async(client)).ToDictionary(e => e.GetProperty("enrollment_id").GetString()!);
        Assert.Equal("active", listed[first].GetProperty("status").GetString());
        Assert.Equal(other, listed[first].GetProperty("webhook_id").GetString());
        Assert.Equal(new[] { Feed.Dana, Feed.Eli }.Order(), listed[first].GetProperty("prospect_ids").Strings().Order());
        Assert.Equal("paused", listed[second].GetProperty("status").GetString());
    }

    [Fact]
    public async Task APausedEnrollmentIsNotReactivatedByPatchesThatNameNoWebhook()
    {
        var (_, client) = await _server.NewPartnerAsync();
        var doomed = await CreateWebhookIdAsync(client, "doomed", Url());
        var enrollment = await EnrollAsync(client, "paused", doomed, Feed.Dana);
        await (await client.DeleteAsync(Path(doomed, "?force=true"))).ExpectAsync(200);

        var patched = await (await client.SendJsonAsync(HttpMethod.Patch, $"{EnrollmentsV2Path}/{enrollment}",
            $$"""{"prospect_ids":["{{Feed.Eli}}"]}""")).ExpectAsync(200);

        Assert.Equal("paused", patched.GetProperty("status").GetString());
        var listed = Assert.Single(await ListEnrollmentsV2Async(client));
        Assert.Equal("paused", listed.GetProperty("status").GetString());
        Assert.Equal([Feed.Eli], listed.GetProperty("prospect_ids").Strings());
        // Re-pointing to the deleted webhook is refused as for any unknown webhook.
        await (await client.SendJsonAsync(HttpMethod.Patch, $"{EnrollmentsV2Path}/{enrollment}", $$"""{"webhook_id":"{{doomed}}"}""")).ExpectAsync(404);
    }

    [Fact]
    public async Task DeletingAWebhookNoActiveEnrollmentUsesAnswersAnEmptyListAndRemovesIt()
    {
        var (_, client) = await _server.NewPartnerAsync();
        var id = await CreateWebhookIdAsync(client, "crm", Url());

        var deleted = await (await client.DeleteAsync(Path(id))).ExpectAsync(200);

        AssertV2Context(deleted);
        Assert.Empty(deleted.GetProperty("affected_enrollment_ids").EnumerateArray());
        await (await client.GetAsync(Path(id))).ExpectAsync(404);
        await (await client.DeleteAsync(Path(id))).ExpectAsync(404);
        Assert.Empty(await ListWebhooksAsync(client));
        await CreateWebhookAsync(client, "crm", Url()); // the name is free again
    }

    [Fact]
    public async Task AForceThatIsNotABooleanIs422()
    {
        var (_, client) = await _server.NewPartnerAsync();
        var id = await CreateWebhookIdAsync(client, "crm", Url());

        var error = await (await client.DeleteAsync(Path(id, "?force=maybe"))).ExpectAsync(422);

        Assert.Equal(("query.force", "bool_parsing"), Problem(error));
        await GetAsync(client, id);
    }

    // ---- rotate_secret ----

    [Fact]
    public async Task RotatingReturnsANewSecretForThatWebhookOnlyWhichSignsFromThenOn()
    {
        var (_, client) = await _server.NewPartnerAsync();
        var created = await CreateWebhookAsync(client, "rotated", Url("rotated"));
        var id = created.GetProperty("webhook_id").GetString()!;
        var other = await CreateWebhookAsync(client, "other", Url("other"));
        var old = created.GetProperty("webhook_secret").GetString()!;

        var rotated = await (await client.PostAsync(Path(id, "/rotate_secret"), null)).ExpectAsync(200);

        AssertV2Context(rotated);
        Assert.Equal(id, rotated.GetProperty("webhook_id").GetString());
        var secret = rotated.GetProperty("webhook_secret").GetString()!;
        Assert.NotEqual(old, secret);
        Assert.Equal(32, Key(secret).Length);
        Assert.Equal("whsec_" + Convert.ToBase64String(Key(secret)), rotated.GetProperty("standard_webhooks_secret").GetString());
        var again = (await (await client.PostAsync(Path(id, "/rotate_secret"), null)).ExpectAsync(200)).GetProperty("webhook_secret").GetString()!;
        Assert.NotEqual(secret, again);
        Assert.NotEqual(old, again);
        AssertNoSecret(await GetAsync(client, id));

        // The new secret signs the anchor's X-Signature; the other webhook still signs with its own.
        _receiver.SetSecret(again);
        await (await client.PostAsync(Path(id, "/check_connectivity"), null)).ExpectAsync(200);
        Assert.True(Assert.Single(_receiver.Requests).AnchorVerified);
        _receiver.SetSecret(other.GetProperty("webhook_secret").GetString()!);
        await (await client.PostAsync(Path(other.GetProperty("webhook_id").GetString()!, "/check_connectivity"), null)).ExpectAsync(200);
        var toOther = _receiver.Requests[^1];
        Assert.Equal("/other", toOther.Path);
        Assert.True(toOther.AnchorVerified && toOther.StandardVerified);
    }

    // ---- check_connectivity ----

    [Theory]
    [InlineData(null)]
    [InlineData("{}")]
    [InlineData("""{"simulation":null}""")]
    [InlineData("""{"simulation":{}}""")]
    public async Task CheckConnectivityWithoutASimulationSendsOneSignedTestEvent(string? body)
    {
        var (partner, client) = await _server.NewPartnerAsync();
        var created = await CreateWebhookAsync(client, "crm", Url());
        var id = created.GetProperty("webhook_id").GetString()!;
        _receiver.SetSecret(created.GetProperty("standard_webhooks_secret").GetString()!);

        var response = body is null ? await client.PostAsync(Path(id, "/check_connectivity"), null) : await client.PostJsonAsync(Path(id, "/check_connectivity"), body);
        var report = await response.ExpectAsync(200);

        AssertV2Context(report);
        var request = Assert.Single(_receiver.Requests);
        Assert.True(request.AnchorVerified && request.StandardVerified);
        var payload = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal(id, payload.GetProperty("webhook_id").GetString());
        Assert.Equal(partner, payload.GetProperty("partner_id").GetString());
        Assert.Equal(partner, payload.GetProperty("tenant_id").GetString());
    }

    [Fact]
    public async Task CheckConnectivityWithASimulationSendsThoseEvents()
    {
        var (_, client) = await _server.NewPartnerAsync();
        var created = await CreateWebhookAsync(client, "crm", Url());
        var id = created.GetProperty("webhook_id").GetString()!;
        _receiver.SetSecret(created.GetProperty("webhook_secret").GetString()!);

        await (await client.PostJsonAsync(Path(id, "/check_connectivity"),
            """{"simulation":{"event_name":"prospect_job_start_anniversary","number_of_events":3,"event_time":"2026-10-01T00:00:00Z"}}""")).ExpectAsync(200);

        Assert.Equal(3, _receiver.Requests.Count);
        Assert.All(_receiver.Requests, r => Assert.True(r.AnchorVerified && r.StandardVerified));
        Assert.Equal(3, _receiver.Requests.Select(r => r.WebhookId).Distinct().Count());
        foreach (var request in _receiver.Requests)
        {
            var payload = JsonDocument.Parse(request.Body).RootElement;
            Assert.Equal("prospect_job_start_anniversary", payload.GetProperty("event_name").GetString());
            Assert.Equal(new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero), payload.GetProperty("event_time").GetDateTimeOffset());
            Assert.Equal(id, payload.GetProperty("webhook_id").GetString());
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    public async Task NumberOfEventsFromOneToTenIsSentInFull(int count)
    {
        var (_, client) = await _server.NewPartnerAsync();
        var id = await CreateWebhookIdAsync(client, "crm", Url());

        await (await client.PostJsonAsync(Path(id, "/check_connectivity"), $$$"""{"simulation":{"number_of_events":{{{count}}}}}""")).ExpectAsync(200);

        Assert.Equal(count, _receiver.Requests.Count);
    }

    [Theory]
    [InlineData("""{"simulation":{"number_of_events":11}}""", "body.simulation.number_of_events", "less_than_equal")]
    [InlineData("""{"simulation":{"number_of_events":0}}""", "body.simulation.number_of_events", "greater_than_equal")]
    [InlineData("""{"simulation":{"event_name":"prospect_was_promoted"}}""", "body.simulation.event_name", "enum")]
    [InlineData("""{"simulation":{"event_time":"yesterday"}}""", "body.simulation.event_time", "datetime_parsing")]
    [InlineData("""{"partner_id":"P"}""", "body.partner_id", "extra_forbidden")]
    [InlineData("""{"simulation":{"colour":"red"}}""", "body.simulation.colour", "extra_forbidden")]
    public async Task AnInvalidConnectivityRequestIs422AndSendsNothing(string body, string loc, string type)
    {
        var (_, client) = await _server.NewPartnerAsync();
        var id = await CreateWebhookIdAsync(client, "crm", Url());

        var error = await (await client.PostJsonAsync(Path(id, "/check_connectivity"), body)).ExpectAsync(422);

        Assert.Equal((loc, type), Problem(error));
        Assert.Empty(_receiver.Requests);
    }

    [Fact]
    public async Task CheckConnectivityAcceptsABusinessEventNameOfTheSharedEnum()
    {
        // The anchor's simulation takes its shared EventTypeEnum as event_name, executive_joined_company included.
        var (_, client) = await _server.NewPartnerAsync();
        var id = await CreateWebhookIdAsync(client, "crm", Url());

        await (await client.PostJsonAsync(Path(id, "/check_connectivity"), """{"simulation":{"event_name":"executive_joined_company"}}""")).ExpectAsync(200);

        var payload = JsonDocument.Parse(Assert.Single(_receiver.Requests).Body).RootElement;
        Assert.Equal("executive_joined_company", payload.GetProperty("event_name").GetString());
    }

    [Fact]
    public async Task CheckConnectivityReportsAFailingReceiverAs400()
    {
        var (_, client) = await _server.NewPartnerAsync();
        var id = await CreateWebhookIdAsync(client, "crm", Url());
        _receiver.Behaviour = (_, _) => new ReceiverAnswer(500);

        var error = await (await client.PostJsonAsync(Path(id, "/check_connectivity"), """{"simulation":{"number_of_events":5}}""")).ExpectAsync(400);

        Assert.StartsWith("Client webhook failed on:", error.GetProperty("detail").GetString());
        Assert.Equal("Client webhook failed on: HTTP 500", error.GetProperty("detail").GetString());
        Assert.Single(_receiver.Requests); // stops at the first failure
    }

    [Fact]
    public async Task CheckConnectivityOfADisabledWebhookStillSends()
    {
        var (_, client) = await _server.NewPartnerAsync();
        var id = await CreateWebhookIdAsync(client, "crm", Url());
        await PatchAsync(client, id, """{"status":"disabled"}""");

        await (await client.PostAsync(Path(id, "/check_connectivity"), null)).ExpectAsync(200);

        Assert.Single(_receiver.Requests);
    }

    // ---- partner isolation and unknown ids ----

    private static IEnumerable<Task<HttpResponseMessage>> EveryRouteOf(HttpClient client, string id) =>
    [
        client.GetAsync(Path(id)),
        client.SendJsonAsync(HttpMethod.Patch, Path(id), """{"name":"stolen"}"""),
        client.SendJsonAsync(HttpMethod.Patch, Path(id), """{"status":"disabled"}"""),
        client.DeleteAsync(Path(id)),
        client.DeleteAsync(Path(id, "?force=true")),
        client.PostAsync(Path(id, "/rotate_secret"), null),
        client.PostAsync(Path(id, "/check_connectivity"), null),
        client.PostJsonAsync(Path(id, "/check_connectivity"), """{"simulation":{"number_of_events":2}}"""),
        client.GetAsync(Path(id, "/deliveries")),
        client.GetAsync(Path(id, "/deliveries/msg_000000000000000000000000")),
        client.PostAsync(Path(id, "/deliveries/msg_000000000000000000000000/retry"), null),
        client.PostJsonAsync(Path(id, "/recover"), """{"since":"2026-01-01"}"""),
    ];

    [Fact]
    public async Task AnotherPartnersWebhookIs404OnEveryRouteAndIsLeftAlone()
    {
        var (_, alice) = await _server.NewPartnerAsync("alice");
        var (bob, bobClient) = await _server.NewPartnerAsync("bob");
        var created = await CreateWebhookAsync(bobClient, "bob's", Url("bob"));
        var id = created.GetProperty("webhook_id").GetString()!;
        await EnrollAsync(bobClient, "bobs_enrollment", id, Feed.Dana);
        await RegisterV1Async(bobClient, bob, Url("bob-v1"));
        var bobsLegacy = await LegacyIdAsync(bobClient);

        foreach (var target in new[] { id, bobsLegacy })
        {
            foreach (var response in await Task.WhenAll(EveryRouteOf(alice, target)))
            {
                var error = await response.ExpectAsync(404);
                Assert.DoesNotContain("bob", error.GetProperty("detail").GetString());
            }
        }

        Assert.Empty(_receiver.Requests);
        Assert.Empty(await ListWebhooksAsync(alice));
        var read = await GetAsync(bobClient, id);
        Assert.Equal("bob's", read.GetProperty("name").GetString());
        Assert.Equal("active", read.GetProperty("status").GetString());
        Assert.Equal(2, (await ListWebhooksAsync(bobClient)).Length);
        Assert.Equal("active", Assert.Single(await ListEnrollmentsV2Async(bobClient)).GetProperty("status").GetString());
        // Bob's secret was not rotated: it still signs his test event.
        _receiver.SetSecret(created.GetProperty("webhook_secret").GetString()!);
        await (await bobClient.PostAsync(Path(id, "/check_connectivity"), null)).ExpectAsync(200);
        Assert.True(Assert.Single(_receiver.Requests).AnchorVerified);
    }

    [Fact]
    public async Task AnUnknownWebhookIdIs404OnEveryRoute()
    {
        var (_, client) = await _server.NewPartnerAsync();

        foreach (var id in new[] { "wh_0000000000000000", "not-an-id" })
            foreach (var response in await Task.WhenAll(EveryRouteOf(client, id)))
                Assert.Contains(id.StartsWith("wh_") ? id : "not-an-id", (await response.ExpectAsync(404)).GetProperty("detail").GetString());
        Assert.Empty(_receiver.Requests);
    }

    [Fact]
    public async Task TheV2RoutesNeedAnApiKey()
    {
        using var anonymous = _server.Client(null);
        await (await anonymous.GetAsync(WebhooksPath)).ExpectAsync(401);
        await (await anonymous.PostJsonAsync(WebhooksPath, Webhook("crm", Url()))).ExpectAsync(401);
        await (await anonymous.GetAsync(EnrollmentsV2Path)).ExpectAsync(401);
        await (await anonymous.PostJsonAsync(FetchV2Path, "{}")).ExpectAsync(401);
    }

    // ---- the v2 delivery-log routes ----

    [Fact]
    public async Task TheDeliveryLogRoutesAnswerForTheCallersWebhookAndOnlyForIt()
    {
        var (_, client) = await _server.NewPartnerAsync();
        var created = await CreateWebhookAsync(client, "crm", Url("crm"));
        var id = created.GetProperty("webhook_id").GetString()!;
        var quiet = await CreateWebhookIdAsync(client, "quiet", Url("quiet"));
        _receiver.SetSecret(created.GetProperty("webhook_secret").GetString()!);
        await EnrollAsync(client, "movers", id, Feed.Dana);
        var at = _server.Clock.GetUtcNow();
        await _server.IngestAsync(Feed.Lines(Feed.Line(Feed.Dana, at.AddDays(-30).ToString("O"), "Acme"), Feed.Line(Feed.Dana, at.AddMinutes(-1).ToString("O"), "Globex")));
        await _receiver.WaitForAsync(r => r.Count == 1, Patience);

        var delivery = await EventuallyAsync(async () => await (await client.GetAsync(Path(id, "/deliveries"))).ExpectAsync(200),
            d => d.GetProperty("deliveries").EnumerateArray().Any(x => x.GetProperty("status").GetString() == "delivered"));

        AssertV2Context(delivery);
        var item = Assert.Single(delivery.GetProperty("deliveries").EnumerateArray());
        var deliveryId = item.GetProperty("delivery_id").GetString()!;
        Assert.Equal("movers", item.GetProperty("enrollment_key").GetString());
        Assert.Equal(deliveryId, _receiver.Requests[0].WebhookId);
        Assert.Empty((await (await client.GetAsync(Path(quiet, "/deliveries"))).ExpectAsync(200)).GetProperty("deliveries").EnumerateArray());

        var detail = await (await client.GetAsync(Path(id, $"/deliveries/{deliveryId}"))).ExpectAsync(200);
        AssertV2Context(detail);
        Assert.Equal(200, Assert.Single(detail.GetProperty("delivery").GetProperty("attempt_log").EnumerateArray()).GetProperty("status_code").GetInt32());
        await (await client.GetAsync(Path(quiet, $"/deliveries/{deliveryId}"))).ExpectAsync(404); // another webhook's delivery

        var retried = await (await client.PostAsync(Path(id, $"/deliveries/{deliveryId}/retry"), null)).ExpectAsync(200);
        AssertV2Context(retried);
        await _receiver.WaitForAsync(r => r.Count == 2, Patience);
        Assert.Equal(deliveryId, _receiver.Requests[1].WebhookId);
        Assert.True(_receiver.Requests[1].AnchorVerified);

        var recovered = await (await client.PostJsonAsync(Path(id, "/recover"), """{"since":"2026-01-01"}""")).ExpectAsync(200);
        AssertV2Context(recovered);
        Assert.Equal(0, recovered.GetProperty("recovered").GetInt32()); // nothing failed

        var (_, mallory) = await _server.NewPartnerAsync("mallory");
        await (await mallory.GetAsync(Path(id, "/deliveries"))).ExpectAsync(404);
        await (await mallory.GetAsync(Path(id, $"/deliveries/{deliveryId}"))).ExpectAsync(404);
        await (await mallory.PostAsync(Path(id, $"/deliveries/{deliveryId}/retry"), null)).ExpectAsync(404);
        await (await mallory.PostJsonAsync(Path(id, "/recover"), """{"since":"2026-01-01"}""")).ExpectAsync(404);
        Assert.Equal(2, _receiver.Requests.Count);
    }

    [Theory]
    [InlineData("""{"since":"2026-01-01","colour":"red"}""", "body.colour", "extra_forbidden")]
    [InlineData("""{}""", "body.since", "missing")]
    public async Task AnInvalidRecoverIs422(string body, string loc, string type)
    {
        var (_, client) = await _server.NewPartnerAsync();
        var id = await CreateWebhookIdAsync(client, "crm", Url());

        var error = await (await client.PostJsonAsync(Path(id, "/recover"), body)).ExpectAsync(422);

        Assert.Equal((loc, type), Problem(error));
    }

    [Fact]
    public async Task TheLegacyWebhooksLogIsTheV1LogUnderItsV2Id()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        _receiver.SetSecret(await RegisterV1Async(client, partner, Url("v1")));
        var id = await LegacyIdAsync(client);
        await (await client.PostJsonAsync(EnrollmentsPath,
            $$"""{"enrollment_key":"v1_movers","event_types":["prospect_changed_company"],"prospect_ids":["{{Feed.Eli}}"]}""")).ExpectAsync(200);
        var at = _server.Clock.GetUtcNow();
        await _server.IngestAsync(Feed.Lines(Feed.Line(Feed.Eli, at.AddDays(-30).ToString("O"), "Acme"), Feed.Line(Feed.Eli, at.AddMinutes(-1).ToString("O"), "Hooli")));
        await _receiver.WaitForAsync(r => r.Count == 1, Patience);

        var v1 = await EventuallyAsync(async () => await (await client.GetAsync($"/v1/webhooks/{partner}/deliveries")).ExpectAsync(200),
            d => d.GetProperty("deliveries").EnumerateArray().Any(x => x.GetProperty("status").GetString() == "delivered"));
        var v2 = await (await client.GetAsync(Path(id, "/deliveries"))).ExpectAsync(200);

        AssertV1Context(v1);
        AssertV2Context(v2);
        Assert.Equal(v1.GetProperty("deliveries").GetRawText(), v2.GetProperty("deliveries").GetRawText());
    }

    // ---- v1 keeps its response_context ----

    [Fact]
    public async Task V1WebhookResponsesStillSayTimeTookInSeconds()
    {
        var (partner, client) = await _server.NewPartnerAsync();

        AssertV1Context(await (await client.PostJsonAsync("/v1/webhooks", $$"""{"partner_id":"{{partner}}","webhook_url":"{{Url()}}"}""")).ExpectAsync(200));
        AssertV1Context(await (await client.GetAsync($"/v1/webhooks/{partner}")).ExpectAsync(200));
        AssertV1Context(await (await client.PostJsonAsync("/v1/webhooks/check_connectivity", $$"""{"partner_id":"{{partner}}"}""")).ExpectAsync(200));
        AssertV1Context(await (await client.GetAsync($"/v1/webhooks/{partner}/deliveries")).ExpectAsync(200));
        AssertV1Context(await (await client.DeleteAsync($"/v1/webhooks/{partner}")).ExpectAsync(200));
    }

    private static async Task<JsonElement> EventuallyAsync(Func<Task<JsonElement>> read, Func<JsonElement, bool> done)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var value = await read();
            if (done(value)) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited in vain; last read: {value}");
            await Task.Delay(50);
        }
    }
}

public sealed class SqliteWebhooksV2Tests() : WebhooksV2Contract(Backend.Sqlite);

public sealed class PostgresWebhooksV2Tests() : WebhooksV2Contract(Backend.Postgres);
