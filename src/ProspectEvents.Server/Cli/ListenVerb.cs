using System.CommandLine;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ProspectEvents.Server.Webhooks;

namespace ProspectEvents.Server.Cli;

/// <summary>
/// The <c>listen</c> verb: a local webhook receiver that prints each delivery (as <c>stripe listen</c> does). Given an API
/// key it points the partner's v1 webhook at itself and learns the secret; given <c>--secret</c> it verifies with those.
/// </summary>
public static class ListenVerb
{
    public const int DefaultPort = 5099;

    /// <summary>Printed when the server refuses the receiver's loopback URL (<c>OutboundGuard</c>).</summary>
    public const string LoopbackHint =
        "The server refuses webhook URLs on loopback unless Webhooks:AllowPrivateNetworks is true. Start it with "
        + "Webhooks__AllowPrivateNetworks=true in its environment (or the argument --Webhooks:AllowPrivateNetworks=true), then run listen again.";

    public static Command Create(TextWriter output, TextWriter error)
    {
        var port = new Option<int>("--port") { Description = $"Loopback port to listen on (default {DefaultPort}; 0 picks a free one).", DefaultValueFactory = _ => DefaultPort };
        port.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 0 or > 65535) r.AddError("--port must be between 0 and 65535."); });
        var secrets = new Option<string[]>("--secret") { Description = "A webhook secret to verify with (webhook_secret or whsec_…); repeat it during a rotation.", AllowMultipleArgumentsPerToken = false };
        var apiKey = new Option<string?>("--api-key") { Description = "A partner's API key: listen registers itself as that partner's webhook and learns the secret." };
        var server = new Option<string>("--server") { Description = $"The server to register with (default {Verbs.DefaultUrls}).", DefaultValueFactory = _ => Verbs.DefaultUrls };
        var partner = new Option<string?>("--partner") { Description = "The partner id of --api-key (found out when left out)." };
        var command = new Command("listen", "Receive webhook deliveries on loopback, verify both signature schemes and print each on one line; "
            + "answers 200 when the signatures verify, 401 when not.") { port, secrets, apiKey, server, partner };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var keys = new List<byte[]>();
            foreach (var text in parsed.GetValue(secrets) ?? [])
            {
                if (!WebhookSecret.TryParse(text, out var key))
                {
                    await error.WriteLineAsync("error: --secret must be a webhook_secret (base64url) or a standard_webhooks_secret (whsec_…).");
                    return Verbs.CannotStartExit;
                }
                keys.Add(key);
            }
            var registerWith = parsed.GetValue(apiKey);
            if (keys.Count == 0 && string.IsNullOrWhiteSpace(registerWith))
            {
                await error.WriteLineAsync("error: listen needs --api-key (to register itself as the webhook) or --secret (of a webhook registered elsewhere).");
                return Verbs.CannotStartExit;
            }

            var colour = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected
                && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
            await using var listener = await WebhookListener.StartAsync(parsed.GetValue(port), output, colour, TimeProvider.System, cancellationToken);
            if (!string.IsNullOrWhiteSpace(registerWith))
            {
                var (secret, problem) = await RegisterAsync(new Uri(parsed.GetValue(server)!), registerWith, parsed.GetValue(partner), listener.Url, error, cancellationToken);
                if (secret is null)
                {
                    await error.WriteLineAsync($"error: {problem}");
                    return Verbs.CannotStartExit;
                }
                keys.Insert(0, secret);
            }
            listener.Verify(keys);
            await error.WriteLineAsync($"listen: ready on {listener.Url}, verifying with {keys.Count} secret(s); Ctrl+C stops.");
            await error.FlushAsync(cancellationToken);

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, listener.Stopping);
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C or SIGTERM: a normal end.
            }
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Makes <paramref name="url"/> the partner's v1 webhook (kept as it is when it already points there) and returns its
    /// secret; or null and why not.
    /// </summary>
    internal static async Task<(byte[]? Secret, string? Problem)> RegisterAsync(
        Uri server, string apiKey, string? partnerId, Uri url, TextWriter error, CancellationToken cancellationToken)
    {
        using var client = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("api_key", apiKey);
        try
        {
            if (string.IsNullOrWhiteSpace(partnerId))
            {
                (partnerId, var problem) = await PartnerOfKeyAsync(client, url, cancellationToken);
                if (partnerId is null) return (null, problem);
            }

            var current = await SendAsync(client, HttpMethod.Get, $"/v1/webhooks/{Uri.EscapeDataString(partnerId)}", null, cancellationToken);
            string? secret;
            if (current.Status == HttpStatusCode.OK && (string?)current.Body?["webhook_url"] == url.ToString() && (string?)current.Body?["status"] == "enabled")
            {
                secret = (string?)current.Body["webhook_secret"];
                await error.WriteLineAsync($"listen: partner {partnerId}'s webhook already points here; using its secret.");
            }
            else
            {
                var body = new JsonObject { ["partner_id"] = partnerId, ["webhook_url"] = url.ToString() };
                var registered = await SendAsync(client, HttpMethod.Post, "/v1/webhooks", body, cancellationToken);
                if (registered.Status != HttpStatusCode.OK) return (null, Refused("register the webhook", registered));
                secret = (string?)registered.Body?["webhook_secret"];
                var before = current.Status == HttpStatusCode.OK ? $" (it pointed at {current.Body?["webhook_url"]}; register that URL again to undo)" : "";
                await error.WriteLineAsync($"listen: registered {url} as partner {partnerId}'s webhook{before}.");
            }
            await error.WriteLineAsync($"listen: webhook secret {secret} (standard_webhooks_secret whsec_… of the same key).");
            return WebhookSecret.TryParse(secret, out var key) ? (key, null) : (null, "the server answered no webhook_secret.");
        }
        catch (HttpRequestException e)
        {
            return (null, $"cannot reach the server at {server}: {e.Message}. Is it running? (--server names another address.)");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"the server at {server} did not answer within 30 s.");
        }
    }

    /// <summary>
    /// The partner of the key: the owner of any of its webhooks, or, when it has none, of a webhook made for a moment
    /// (v2 shows a webhook's owner; no endpoint names the caller's partner otherwise).
    /// </summary>
    private static async Task<(string? PartnerId, string? Problem)> PartnerOfKeyAsync(HttpClient client, Uri url, CancellationToken cancellationToken)
    {
        var list = await SendAsync(client, HttpMethod.Get, "/v2/webhooks", null, cancellationToken);
        if (list.Status != HttpStatusCode.OK) return (null, Refused("list the partner's webhooks", list));
        if (list.Body?["webhooks"] is JsonArray { Count: > 0 } webhooks) return ((string?)webhooks[0]?["scope"]?["id"], null);

        var probe = new JsonObject { ["name"] = $"listen-probe-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4))}", ["webhook_url"] = url.ToString() };
        var created = await SendAsync(client, HttpMethod.Post, "/v2/webhooks", probe, cancellationToken);
        if (created.Status != HttpStatusCode.Created) return (null, Refused("find the key's partner", created));
        await SendAsync(client, HttpMethod.Delete, $"/v2/webhooks/{created.Body?["webhook_id"]}", null, cancellationToken);
        return ((string?)created.Body?["scope"]?["id"], null);
    }

    private static string Refused(string what, (HttpStatusCode Status, JsonNode? Body) answer)
    {
        var detail = answer.Body?["detail"] is JsonArray errors ? string.Join("; ", errors.Select(e => (string?)e?["msg"])) : (string?)answer.Body?["detail"];
        var text = $"the server refused to {what}: HTTP {(int)answer.Status} {detail}";
        if (answer.Status == HttpStatusCode.UnprocessableEntity && detail?.Contains("AllowPrivateNetworks", StringComparison.Ordinal) == true)
            text += Environment.NewLine + LoopbackHint;
        if (answer.Status == HttpStatusCode.Unauthorized) text += " (check --api-key)";
        return text;
    }

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(
        HttpClient client, HttpMethod method, string path, JsonObject? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await client.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        JsonNode? parsed;
        try
        {
            parsed = text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            parsed = null;
        }
        return (response.StatusCode, parsed);
    }
}
