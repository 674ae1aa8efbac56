using System.Text.Json;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.V2;

/// <summary>Paths, bodies and checks the v2 contract tests share.</summary>
internal static class V2Json
{
    public const string WebhooksPath = "/v2/webhooks";
    public const string EnrollmentsV2Path = "/v2/prospects/events/enrollments";
    public const string FetchV2Path = "/v2/prospects/events";

    public static string Ids(IEnumerable<string> ids) => string.Join(",", ids.Select(i => $"\"{i}\""));

    public static string Webhook(string name, string url, string extra = "") => $$"""{"name":"{{name}}","webhook_url":"{{url}}"{{extra}}}""";

    public static string EnrollmentV2(string key, string webhookId, string[] prospects, string types = "\"prospect_changed_role\"", string extra = "") =>
        $$"""{"enrollment_key":"{{key}}","webhook_id":"{{webhookId}}","event_types":[{{types}}],"prospect_ids":[{{Ids(prospects)}}]{{extra}}}""";

    /// <summary>Creates a webhook (201) and returns the created body.</summary>
    public static async Task<JsonElement> CreateWebhookAsync(HttpClient client, string name, string url, string extra = "") =>
        await (await client.PostJsonAsync(WebhooksPath, Webhook(name, url, extra))).ExpectAsync(201);

    public static async Task<string> CreateWebhookIdAsync(HttpClient client, string name, string url) =>
        (await CreateWebhookAsync(client, name, url)).GetProperty("webhook_id").GetString()!;

    public static async Task<JsonElement[]> ListWebhooksAsync(HttpClient client, string query = "")
    {
        var body = await (await client.GetAsync(WebhooksPath + query)).ExpectAsync(200);
        AssertV2Context(body);
        AssertNoSecret(body);
        return body.GetProperty("webhooks").EnumerateArray().ToArray();
    }

    public static async Task<JsonElement[]> ListEnrollmentsV2Async(HttpClient client)
    {
        var body = await (await client.GetAsync(EnrollmentsV2Path)).ExpectAsync(200);
        AssertV2Context(body);
        return body.GetProperty("enrollments").EnumerateArray().ToArray();
    }

    /// <summary>A v2 <c>response_context</c>: success, timed as <c>time_taken_in_seconds</c> and never as v1's <c>time_took_in_seconds</c>.</summary>
    public static void AssertV2Context(JsonElement body)
    {
        var context = body.GetProperty("response_context");
        Assert.Equal("success", context.GetProperty("request_status").GetString());
        Assert.Matches("^[0-9a-f]{32}$", context.GetProperty("correlation_id").GetString());
        Assert.True(context.TryGetProperty("time_taken_in_seconds", out var seconds), $"No time_taken_in_seconds in {context}");
        Assert.InRange(seconds.GetDouble(), 0.0, 30.0);
        Assert.False(context.TryGetProperty("time_took_in_seconds", out _), $"A v2 response_context says time_took_in_seconds: {context}");
    }

    /// <summary>A v1 <c>response_context</c>, unchanged: <c>time_took_in_seconds</c> and no <c>time_taken_in_seconds</c>.</summary>
    public static void AssertV1Context(JsonElement body)
    {
        var context = body.GetProperty("response_context");
        Assert.True(context.TryGetProperty("time_took_in_seconds", out _), $"No time_took_in_seconds in {context}");
        Assert.False(context.TryGetProperty("time_taken_in_seconds", out _), $"A v1 response_context says time_taken_in_seconds: {context}");
    }

    /// <summary>No secret anywhere in the document, in either form.</summary>
    public static void AssertNoSecret(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Assert.DoesNotContain("secret", property.Name, StringComparison.Ordinal);
                    AssertNoSecret(property.Value);
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray()) AssertNoSecret(item);
                break;
            case JsonValueKind.String:
                Assert.DoesNotContain("whsec_", element.GetString()!, StringComparison.Ordinal);
                break;
        }
    }

    /// <summary>The single problem of a 422 body: its location joined with dots and its type.</summary>
    public static (string Loc, string Type) Problem(JsonElement error)
    {
        var problem = Assert.Single(error.GetProperty("detail").EnumerateArray());
        return (Loc(problem), problem.GetProperty("type").GetString()!);
    }

    public static string Loc(JsonElement problem) => string.Join('.', problem.GetProperty("loc").EnumerateArray().Select(l => l.ToString()));

    /// <summary>The 32-byte key a secret in the anchor's form (padded base64url) holds.</summary>
    public static byte[] Key(string anchorSecret) => Convert.FromBase64String(anchorSecret.Replace('-', '+').Replace('_', '/'));
}
