using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ProspectEvents.Server.Cli;
using ProspectEvents.Server.Webhooks;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.Cli;

/// <summary>The <c>listen</c> verb against real deliveries from a real server, once per backend.</summary>
public abstract partial class ListenContract(Backend backend) : IAsyncLifetime
{
    private const string Valid = "anchor ok  standard ok  200";

    private ServerUnderTest _server = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerUnderTest.StartAsync(backend, new Dictionary<string, string?>
        {
            ["Webhooks:AllowPrivateNetworks"] = "true",
            ["Webhooks:RetrySchedule"] = "0s,1s,1s",
        });
        // listen checks signed timestamps against the real clock, as any receiver does.
        _server.Clock.Advance(DateTimeOffset.UtcNow - _server.Clock.GetUtcNow());
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task ListenRegistersItselfWithAnApiKeyAndPrintsEachDeliveryOfTheDemoWithValidSignatures()
    {
        var key = await _server.Store.CreatePartnerAsync("newcomer", KeyScope.Partner, _server.Clock.GetUtcNow(), CancellationToken.None);
        await using var listen = await Listening.StartAsync("--api-key", key.Secret, "--server", _server.Address.ToString());
        using var client = _server.Client(key.Secret);
        var enrollment = new StringWriter();
        await Verbs.RunAsync(["demo", "--date", "2026-11-01", "--enrollment"], enrollment, new StringWriter());
        await (await client.PostJsonAsync(EnrollmentsPath, enrollment.ToString())).ExpectAsync(200);
        var feed = DemoFeed.Create(20, 1, new DateOnly(2026, 11, 1));

        await _server.IngestAsync(string.Join('\n', feed.NdjsonLines()) + "\n");

        var changes = feed.Planted.Where(p => p.EventName != EventTypeNames.JobStartAnniversary).ToList();
        var lines = await listen.WaitForLinesAsync(changes.Count);
        foreach (var planted in changes)
            Assert.Contains(lines, l => l.Contains(planted.EventName) && l.Contains(planted.ProspectId) && l.Contains(DemoVerb.EnrollmentKey) && l.EndsWith(Valid));
        Assert.All(lines, l => Assert.DoesNotContain("\e[", l)); // output that is not a terminal gets no colour
        var webhook = await (await client.GetAsync($"/v1/webhooks/{key.PartnerId}")).ExpectAsync(200);
        Assert.Equal(listen.Url, webhook.GetProperty("webhook_url").GetString());
        Assert.Contains(webhook.GetProperty("webhook_secret").GetString()!, listen.Error);
        Assert.Equal(0, (await (await client.GetAsync($"/v2/webhooks")).ExpectAsync(200)).GetProperty("webhooks").EnumerateArray()
            .Count(w => !w.GetProperty("legacy").GetBoolean())); // the probe that found the partner is gone
    }

    [Fact]
    public async Task ListenStartedAgainOnTheSameUrlKeepsTheWebhookAndItsSecret()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        var key = await _server.Store.CreateKeyAsync(partner, KeyScope.Partner, _server.Clock.GetUtcNow(), CancellationToken.None);
        string url, secret;
        await using (var first = await Listening.StartAsync("--api-key", key!.Secret, "--server", _server.Address.ToString(), "--partner", partner))
        {
            url = first.Url;
            secret = (await (await client.GetAsync($"/v1/webhooks/{partner}")).ExpectAsync(200)).GetProperty("webhook_secret").GetString()!;
        }
        var port = new Uri(url).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var second = await Listening.StartAsync("--api-key", key.Secret, "--server", _server.Address.ToString(), "--port", port);

        Assert.Contains("already points here", second.Error);
        Assert.Equal(secret, (await (await client.GetAsync($"/v1/webhooks/{partner}")).ExpectAsync(200)).GetProperty("webhook_secret").GetString());
        await (await client.PostJsonAsync("/v1/webhooks/check_connectivity", $$"""{"partner_id":"{{partner}}"}""")).ExpectAsync(200);
        Assert.EndsWith(Valid, Assert.Single(await second.WaitForLinesAsync(1)));
    }

    [Fact]
    public async Task AListenerHoldingAnotherSecretAnswers401AndPrintsBothSignaturesBad()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        await using var listen = await Listening.StartAsync("--secret", WebhookSecret.ToAnchorText(WebhookSecret.New()));
        await (await client.PostJsonAsync("/v1/webhooks", $$"""{"partner_id":"{{partner}}","webhook_url":"{{listen.Url}}"}""")).ExpectAsync(200);

        var failed = await (await client.PostJsonAsync("/v1/webhooks/check_connectivity", $$"""{"partner_id":"{{partner}}"}""")).ExpectAsync(400);

        Assert.Contains("HTTP 401", failed.GetProperty("detail").GetString());
        Assert.EndsWith("anchor BAD  standard BAD  401", Assert.Single(await listen.WaitForLinesAsync(1)));
    }

    [Fact]
    public async Task ATamperedCopyOfARealDeliveryIsRefusedAndTheOriginalAccepted()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        await using var receiver = await WebhookReceiver.StartAsync(new WebhookReceiverOptions());
        var registered = await (await client.PostJsonAsync("/v1/webhooks", $$"""{"partner_id":"{{partner}}","webhook_url":"{{receiver.Url}}"}""")).ExpectAsync(200);
        await (await client.PostJsonAsync("/v1/webhooks/check_connectivity", $$"""{"partner_id":"{{partner}}"}""")).ExpectAsync(200);
        var real = Assert.Single(receiver.Requests);
        await using var listen = await Listening.StartAsync("--secret", registered.GetProperty("standard_webhooks_secret").GetString()!);
        using var http = new HttpClient();

        async Task<int> ReplayAsync(byte[] body, string? signatureHeader = null, string? signature = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, listen.Url) { Content = new ByteArrayContent(body) };
            foreach (var (name, value) in real.Headers.Where(h => h.Key.StartsWith("webhook-", StringComparison.OrdinalIgnoreCase) || h.Key.StartsWith("X-", StringComparison.OrdinalIgnoreCase)))
                request.Headers.TryAddWithoutValidation(name, name.Equals(signatureHeader, StringComparison.OrdinalIgnoreCase) ? signature : value);
            return (int)(await http.SendAsync(request)).StatusCode;
        }

        Assert.Equal(200, await ReplayAsync(real.Body));
        Assert.Equal(401, await ReplayAsync(Encoding.UTF8.GetBytes(real.BodyText.Replace("prospect_changed_company", "prospect_changed_role"))));
        Assert.Equal(401, await ReplayAsync(real.Body, WebhookSigner.SignatureHeader, "AAAA" + real.Headers[WebhookSigner.SignatureHeader][4..]));
        var lines = await listen.WaitForLinesAsync(3);
        Assert.EndsWith(Valid, lines[0]);
        Assert.EndsWith("anchor BAD  standard BAD  401", lines[1]);
        Assert.EndsWith("anchor BAD  standard ok  401", lines[2]);
    }

    [Fact]
    public async Task DuringARotationListenVerifiesWithEitherSecretAndBothWhenGivenBoth()
    {
        var (_, client) = await _server.NewPartnerAsync();
        await using var listen = await Listening.StartAsync("--port", "0", "--secret", "whsec_" + Convert.ToBase64String(new byte[32]));
        var created = await (await client.PostJsonAsync("/v2/webhooks", $$"""{"name":"rotating","webhook_url":"{{listen.Url}}"}""")).ExpectAsync(201);
        var id = created.GetProperty("webhook_id").GetString();
        var old = created.GetProperty("webhook_secret").GetString()!;
        var rotated = await (await client.PostAsync($"/v2/webhooks/{id}/rotate_secret", null)).ExpectAsync(200);
        var fresh = rotated.GetProperty("webhook_secret").GetString()!;
        await listen.DisposeAsync();

        async Task<string> LineAsync(int status, params string[] secrets)
        {
            var port = new Uri(listen.Url).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await using var again = await Listening.StartAsync(["--port", port, .. secrets.SelectMany(s => new[] { "--secret", s })]);
            await (await client.PostAsync($"/v2/webhooks/{id}/check_connectivity", null)).ExpectAsync(status);
            return Assert.Single(await again.WaitForLinesAsync(1));
        }

        Assert.EndsWith(Valid, await LineAsync(200, fresh, old));
        Assert.EndsWith("anchor ok  standard ok  200", await LineAsync(200, fresh));
        Assert.EndsWith("anchor BAD  standard ok  401", await LineAsync(400, old)); // X-Signature uses the new secret only
    }

    [Fact]
    public async Task ListenPrintsHowToAllowLoopbackWhenTheServerRefusesItsUrl()
    {
        await using var strict = await ServerUnderTest.StartAsync(backend);
        var error = new StringWriter();

        var exit = await Verbs.RunAsync(["listen", "--port", "0", "--api-key", strict.AdminKey, "--server", strict.Address.ToString()], new StringWriter(), error);

        Assert.Equal(Verbs.CannotStartExit, exit);
        Assert.Contains("HTTP 422", error.ToString());
        Assert.Contains("Webhooks__AllowPrivateNetworks=true", error.ToString());
    }

    [Fact]
    public async Task ListenWithoutAKeyOrASecretSaysWhatItNeeds()
    {
        var error = new StringWriter();

        Assert.Equal(Verbs.CannotStartExit, await Verbs.RunAsync(["listen", "--port", "0"], new StringWriter(), error));
        Assert.Contains("--api-key", error.ToString());
        Assert.Equal(Verbs.CannotStartExit, await Verbs.RunAsync(["listen", "--port", "0", "--secret", "not base64!"], new StringWriter(), error));
    }

    /// <summary>The verb running in this process until disposed, its output captured.</summary>
    private sealed partial class Listening : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly LockedWriter _output = new();
        private readonly LockedWriter _error = new();
        private Task<int> _run = null!;

        public string Url { get; private set; } = "";

        public string Error => _error.ToString();

        public static async Task<Listening> StartAsync(params string[] args)
        {
            var listening = new Listening();
            string[] all = args.Contains("--port") ? ["listen", .. args] : ["listen", "--port", "0", .. args];
            listening._run = Verbs.RunAsync(all, listening._output, listening._error, listening._stop.Token);
            var clock = Stopwatch.StartNew();
            Match ready;
            while (!(ready = ReadyPattern().Match(listening.Error)).Success)
            {
                if (listening._run.IsCompleted) Assert.Fail($"listen exited with {await listening._run}: {listening.Error}");
                if (clock.Elapsed > TimeSpan.FromSeconds(30)) Assert.Fail($"listen did not get ready: {listening.Error}");
                await Task.Delay(20);
            }
            listening.Url = ready.Groups[1].Value;
            return listening;
        }

        public async Task<string[]> WaitForLinesAsync(int count)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                var lines = _output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
                if (lines.Length >= count)
                {
                    await Task.Delay(200); // and no more than that
                    return _output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
                }
                await Task.Delay(50);
            }
            Assert.Fail($"listen printed fewer than {count} lines:\n{_output}\n{Error}");
            return [];
        }

        public async ValueTask DisposeAsync()
        {
            if (_stop.IsCancellationRequested) return;
            await _stop.CancelAsync();
            Assert.Equal(0, await _run);
            _stop.Dispose();
        }

        [GeneratedRegex(@"ready on (\S+),")]
        private static partial Regex ReadyPattern();
    }

    /// <summary>A text sink one thread writes while another reads.</summary>
    private sealed class LockedWriter : StringWriter
    {
        public override void Write(char value) { lock (this) base.Write(value); }

        public override void Write(string? value) { lock (this) base.Write(value); }

        public override void WriteLine(string? value) { lock (this) base.WriteLine(value); }

        public override Task WriteLineAsync(string? value) { WriteLine(value); return Task.CompletedTask; }

        public override Task WriteAsync(string? value) { Write(value); return Task.CompletedTask; }

        public override string ToString() { lock (this) return base.ToString(); }
    }
}

public sealed class SqliteListenTests() : ListenContract(Backend.Sqlite);

public sealed class PostgresListenTests() : ListenContract(Backend.Postgres);
