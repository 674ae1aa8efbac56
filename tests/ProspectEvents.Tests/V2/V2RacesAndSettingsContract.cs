using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.V2;

/// <summary>v2 writes that race each other, and the rotation setting. Once per backend.</summary>
public abstract class V2RacesAndSettingsContract(Backend backend)
{
    private const int Racers = 8;

    [Fact]
    public async Task ConcurrentPostsOfOneNewKeyToDifferentWebhooksBindItToExactlyOne()
    {
        await using var server = await ServerUnderTest.StartAsync(backend, new Dictionary<string, string?> { ["Webhooks:AllowPrivateNetworks"] = "true" });
        var (_, client) = await server.NewPartnerAsync();
        var webhooks = new List<string>();
        for (var i = 0; i < 2; i++)
            webhooks.Add((await (await client.PostJsonAsync("/v2/webhooks", $$"""{"name":"w{{i}}","webhook_url":"http://127.0.0.1:9/hooks"}""")).ExpectAsync(201))
                .GetProperty("webhook_id").GetString()!);

        var answers = await Task.WhenAll(Enumerable.Range(0, Racers).Select(async i =>
        {
            using var response = await client.PostJsonAsync("/v2/prospects/events/enrollments",
                $$"""{"enrollment_key":"raced","webhook_id":"{{webhooks[i % 2]}}","event_types":["prospect_changed_role"],"prospect_ids":["{{Feed.Id(i + 1)}}"]}""");
            return ((int)response.StatusCode, webhooks[i % 2]);
        }));

        var enrollment = Assert.Single((await (await client.GetAsync("/v2/prospects/events/enrollments")).ExpectAsync(200)).GetProperty("enrollments").EnumerateArray());
        var bound = enrollment.GetProperty("webhook_id").GetString();
        Assert.Single(answers, a => a.Item1 == 201);
        // Every post naming the bound webhook was taken (201 or 200, its prospect kept); every other one refused, adding nothing.
        Assert.All(answers, a => Assert.Equal(a.Item2 == bound ? (a.Item1 == 201 ? 201 : 200) : 409, a.Item1));
        Assert.Equal(Racers / 2, enrollment.GetProperty("prospect_ids").GetArrayLength());
    }

    [Fact]
    public async Task WithNoOverlapConfiguredARotationReplacesTheSecretAtOnce()
    {
        await using var server = await ServerUnderTest.StartAsync(backend, new Dictionary<string, string?>
        {
            ["Webhooks:AllowPrivateNetworks"] = "true",
            ["Webhooks:RotationOverlap"] = "00:00:00",
        });
        var (partner, client) = await server.NewPartnerAsync();
        var id = (await (await client.PostJsonAsync("/v2/webhooks", """{"name":"w","webhook_url":"http://127.0.0.1:9/hooks"}""")).ExpectAsync(201))
            .GetProperty("webhook_id").GetString()!;

        var rotated = await (await client.PostAsync($"/v2/webhooks/{id}/rotate_secret", null)).ExpectAsync(200);

        Assert.False(rotated.TryGetProperty("previous_secret_valid_until", out _));
        var webhook = await server.Store.GetWebhookByIdAsync(partner, id, CancellationToken.None);
        Assert.Single(webhook!.SigningKeys(server.Clock.GetUtcNow()));
        Assert.Null(webhook.PreviousSecret);
    }
}

public sealed class SqliteV2RacesAndSettingsTests() : V2RacesAndSettingsContract(Backend.Sqlite);

public sealed class PostgresV2RacesAndSettingsTests() : V2RacesAndSettingsContract(Backend.Postgres);
