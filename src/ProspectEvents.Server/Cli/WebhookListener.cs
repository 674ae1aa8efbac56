using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace ProspectEvents.Server.Cli;

/// <summary>
/// The receiver behind <c>listen</c>: a Kestrel app on loopback that verifies every POST, prints it on one line and answers
/// 200 when both signatures verify, 401 when not (so the server retries what a real receiver would refuse).
/// <c>GET /</c> answers 200 once the receiver knows its secrets, for scripts that wait for it.
/// </summary>
public sealed class WebhookListener : IAsyncDisposable
{
    private const int MaxBodyBytes = 1 << 20;

    private readonly WebApplication _app;
    private readonly TextWriter _output;
    private readonly bool _colour;
    private readonly TimeProvider _time;
    private readonly Lock _writing = new();
    private DeliveryVerifier? _verifier;

    private WebhookListener(WebApplication app, TextWriter output, bool colour, TimeProvider time)
    {
        _app = app;
        _output = output;
        _colour = colour;
        _time = time;
    }

    /// <summary>The URL deliveries are posted to, e.g. <c>http://127.0.0.1:5099/</c>.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Stops when the host is asked to (SIGTERM), besides the verb's own cancellation.</summary>
    public CancellationToken Stopping => _app.Lifetime.ApplicationStopping;

    public static async Task<WebhookListener> StartAsync(int port, TextWriter output, bool colour, TimeProvider time, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var listener = new WebhookListener(app, output, colour, time);
        app.MapGet("/", () => listener._verifier is null ? Results.StatusCode(StatusCodes.Status503ServiceUnavailable) : Results.Text("listening\n"));
        app.MapPost("/{**path}", (Func<HttpContext, Task<IResult>>)listener.ReceiveAsync);
        app.Urls.Clear(); // not ASPNETCORE_URLS: that names the server's address when both run in one shell
        app.Urls.Add(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"));
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        listener.Url = new Uri(address.TrimEnd('/') + "/");
        return listener;
    }

    /// <summary>From now on deliveries are verified with <paramref name="keys"/>, and <c>GET /</c> says the receiver is ready.</summary>
    public void Verify(IReadOnlyList<byte[]> keys) => _verifier = new DeliveryVerifier(keys, _time);

    private async Task<IResult> ReceiveAsync(HttpContext http)
    {
        if (_verifier is not { } verifier) return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
        using var body = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await http.Request.Body.ReadAsync(buffer, http.RequestAborted)) > 0)
        {
            if (body.Length + read > MaxBodyBytes) return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
            body.Write(buffer, 0, read);
        }
        var bytes = body.ToArray();
        var check = verifier.Check(name => http.Request.Headers.TryGetValue(name, out var v) ? v.ToString() : null, bytes);
        var status = check.Valid ? StatusCodes.Status200OK : StatusCodes.Status401Unauthorized;
        var line = DeliveryLine.Format(_time.GetLocalNow(), DeliveryLine.Read(bytes), check, status, _colour);
        lock (_writing)
        {
            _output.WriteLine(line);
            _output.Flush();
        }
        return check.Valid ? Results.Ok() : Results.Text("signature did not verify\n", statusCode: status);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>One delivery as <c>listen</c> prints it: time, event, prospect, enrollment, each signature, the answer.</summary>
public static class DeliveryLine
{
    /// <summary>What the line shows of a payload; <c>null</c> fields print as <c>-</c>.</summary>
    public sealed record Fields(string? EventName, string? ProspectId, string? Enrollment);

    /// <summary>The fields of a delivery body: a JSON object, or (<c>stringified_json</c>) that object as a string, bare or in <c>{"text"}</c>.</summary>
    public static Fields Read(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String
                && !root.TryGetProperty("event_name", out _))
                root = text;
            if (root.ValueKind == JsonValueKind.String)
            {
                using var inner = JsonDocument.Parse(root.GetString()!);
                return FieldsOf(inner.RootElement);
            }
            return FieldsOf(root);
        }
        catch (JsonException)
        {
            return new Fields(null, null, null);
        }
    }

    public static string Format(DateTimeOffset at, Fields fields, SignatureCheck check, int status, bool colour)
    {
        string Paint(string text, string code) => colour ? $"\e[{code}m{text}\e[0m" : text;
        string Verdict(string scheme, bool ok) => Paint($"{scheme} {(ok ? "ok" : "BAD")}", ok ? "32" : "1;31");
        var eventColour = fields.EventName switch
        {
            EventTypeNames.ChangedCompany => "36",
            EventTypeNames.ChangedRole => "33",
            EventTypeNames.JobStartAnniversary => "35",
            _ => "0",
        };
        return string.Join("  ",
            Paint(at.ToString("HH:mm:ss", CultureInfo.InvariantCulture), "2"),
            Paint((fields.EventName ?? "(not an event)").PadRight(30), eventColour),
            fields.ProspectId ?? "-",
            fields.Enrollment ?? "-",
            Verdict("anchor", check.Anchor),
            Verdict("standard", check.Standard),
            Paint(status.ToString(CultureInfo.InvariantCulture), check.Valid ? "32" : "1;31"));
    }

    private static Fields FieldsOf(JsonElement root) => root.ValueKind != JsonValueKind.Object
        ? new Fields(null, null, null)
        : new Fields(Text(root, "event_name"), Text(root, "prospect_id") ?? Text(root, "entity_id"),
            Text(root, "enrollment_id") ?? Text(root, "enrollment_key"));

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
