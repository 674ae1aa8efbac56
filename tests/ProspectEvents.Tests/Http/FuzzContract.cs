using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ProspectEvents.Storage;
using ProspectEvents.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ProspectEvents.Tests.Http;

/// <summary>
/// Every operation of the server's own OpenAPI document, fed requests built from its schema and then made hostile
/// (invalid UTF-8, lone surrogates, control characters, wrong types, boundary numbers and dates, huge strings and
/// arrays, deep nesting, duplicate and unknown fields, broken bodies, hostile path and query values, bad keys).
/// Whatever arrives, the server answers 2xx or 4xx, every 422 is FastAPI-shaped, nothing is logged as an error, and a
/// rejected request leaves the database as it was. Seeds are fixed: a failure names its seed and request number.
/// </summary>
public abstract class FuzzContract(Backend backend, ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>The seeds: together they send every case of the sweep once; each adds random requests of its own.</summary>
    private const int SeedCount = 6;

    /// <summary>Random requests per operation and seed, besides the seed's share of the sweep.</summary>
    private const int RandomPerBodyOperation = 30, RandomPerOtherOperation = 8;

    /// <summary>Every table a JSON request can write (ingest, which always answers 200 when it works, also writes events).</summary>
    private static readonly string[] WatchedTables =
        ["partners", "api_keys", "enrollments", "enrollment_prospects", "webhooks", "deliveries", "delivery_attempts", "events"];

    /// <summary>Set to 1 to print every request sent, its answer's status and its mutations.</summary>
    public const string TraceVariable = "PROSPECTEVENTS_FUZZ_TRACE";

    private static readonly bool Trace = Environment.GetEnvironmentVariable(TraceVariable) == "1";

    private static readonly UriCreationOptions Verbatim = new() { DangerousDisablePathAndQueryCanonicalization = true };

    private readonly LogCapture _logs = new();
    private ServerUnderTest _server = null!;
    private HttpClient _http = null!;
    private string? _walPosition, _lastSnapshot;
    private readonly List<string> _warnings = [];

    public static TheoryData<int> Seeds
    {
        get
        {
            var seeds = new TheoryData<int>();
            for (var seed = 1; seed <= SeedCount; seed++) seeds.Add(seed);
            return seeds;
        }
    }

    public async Task InitializeAsync()
    {
        _server = await ServerUnderTest.StartAsync(backend, new Dictionary<string, string?>
        {
            ["RateLimiting:PermitsPerWindow"] = "1000000",
            // No background writer (webhook dispatcher, anniversary sweep, fan-out indexer): only requests change the database.
            ["Roles"] = "api,ingest",
            // Webhooks point at the server itself (its /healthz), so test sends stay on 127.0.0.1 and resolve no name.
            ["Webhooks:AllowPrivateNetworks"] = "true",
            ["Webhooks:Timeout"] = "00:00:05",
        }, builder => builder.Logging.AddProvider(_logs));
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(5),
        })
        { Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task EveryHostileRequestBuiltFromTheOpenApiDocumentIsAnswered2xxOr4xxWithoutAnErrorAndARejectedOneChangesNothing(int seed)
    {
        var started = Stopwatch.GetTimestamp();
        var document = await GetDocumentAsync();
        var operations = OpenApiOperations.Read(document);
        Assert.Contains(operations, o => o.Admin && o.Ndjson);
        Assert.Contains(operations, o => o.Path.StartsWith("/v1/webhooks/{partner_id}", StringComparison.Ordinal));

        var context = await SetUpAsync(seed);
        var failures = new Dictionary<int, RequestFailure>();
        var sent = new List<FuzzRequest>();
        foreach (var entry in _logs.Drain().Where(IsError))
            Failure(failures, -1, null, "set-up").Problems.Add(("logged " + Describe(entry), entry.ToString()));

        // The seed's share of the sweep and its random requests, in an order of the seed's: states left by one operation meet the others.
        var generator = new FuzzGenerator(context);
        var plan = new List<(FuzzOperation Operation, FuzzCase? Case, int Number)>();
        var sweepCount = 0;
        foreach (var operation in operations)
        {
            var cases = generator.Sweep(operation);
            sweepCount += cases.Count;
            for (var i = seed - 1; i < cases.Count; i += SeedCount) plan.Add((operation, cases[i], i));
            for (var i = 0; i < (operation.Body is null ? RandomPerOtherOperation : RandomPerBodyOperation); i++) plan.Add((operation, null, i));
        }
        var order = new Random(seed);
        for (var i = plan.Count - 1; i > 0; i--)
        {
            var j = order.Next(i + 1);
            (plan[i], plan[j]) = (plan[j], plan[i]);
        }

        var statuses = new SortedDictionary<int, int>();
        var snapshotTime = TimeSpan.Zero;
        var before = await SnapshotAsync();
        foreach (var (operation, sweep, number) in plan)
        {
            var request = sweep is not null
                ? generator.Build(operation, sent.Count, sweep)
                : generator.Random(operation, sent.Count, new Random(FuzzGenerator.StableHash(string.Create(CultureInfo.InvariantCulture, $"{seed}|{operation}|{number}"))));
            sent.Add(request);
            var (status, body, error) = await SendAsync(request, seed);
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            if (Trace) output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"#{request.Index} {status} {request.Operation.Method} {FuzzGenerator.Shorten(request.Target)} [{request.KindText}] {string.Join("; ", request.Details)}"));
            var answer = body is null ? "" : FuzzGenerator.Preview(body, 300);

            if (error is not null)
                Failure(failures, request.Index, request, answer).Problems.Add(($"no answer ({error.GetType().Name})", error.Message));
            else if (status is < 200 or (>= 300 and < 400) or >= 500)
                Failure(failures, request.Index, request, answer).Problems.Add(($"answered {status.ToString(CultureInfo.InvariantCulture)}", ""));
            if (status == 422 && FastApiProblem(body!) is { } shape)
                Failure(failures, request.Index, request, answer).Problems.Add(("422 not FastAPI-shaped", shape));

            AttributeLogs(failures, sent, request);

            var snapshotStarted = Stopwatch.GetTimestamp();
            var after = await SnapshotAsync();
            snapshotTime += Stopwatch.GetElapsedTime(snapshotStarted);
            if (status is >= 400 and < 500 && after != before)
                Failure(failures, request.Index, request, answer).Problems.Add(($"rejected ({status.ToString(CultureInfo.InvariantCulture)}) yet changed the database", FirstDifference(before, after)));
            before = after;

            if (status is >= 200 and < 300) Learn(context, request, body!);
        }

        // Entries logged after the last answer (a connection closing, say) still count.
        await Task.Delay(200);
        if (sent.Count > 0) AttributeLogs(failures, sent, sent[^1]);

        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Seed {seed} on {backend}: {sent.Count} requests ({plan.Count(p => p.Case is not null)} of the sweep's {sweepCount}) over {operations.Count} operations in {seconds:0.0} s ({snapshotTime.TotalSeconds:0.0} s of it database snapshots); statuses {string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}"))}; {failures.Count} failed; warnings logged (not failures): {(_warnings.Count == 0 ? "none" : string.Join(", ", _warnings.CountBy(w => w).Select(w => $"{w.Key}×{w.Value}")))}."));
        Assert.True(failures.Count == 0, Report(seed, sent.Count, failures));
    }

    /// <summary>
    /// <see cref="DatabaseSnapshot"/> of the watched tables. On PostgreSQL, while the WAL insert position stands still
    /// no row anywhere has changed, so the last snapshot still holds: most rejected requests cost one cheap query
    /// instead of a full snapshot (any write, even another database's, just means a full one).
    /// </summary>
    private async Task<string> SnapshotAsync()
    {
        if (backend != Backend.Postgres) return await DatabaseSnapshot.TakeAsync(_server.Store, WatchedTables);
        // Read before the snapshot: a write between the two shows as a new position next time.
        var position = Convert.ToString(await _server.SqlAsync("SELECT pg_current_wal_insert_lsn()::text"), CultureInfo.InvariantCulture);
        if (position != _walPosition || _lastSnapshot is null)
        {
            _lastSnapshot = await DatabaseSnapshot.TakeAsync(_server.Store, WatchedTables);
            _walPosition = position;
        }
        return _lastSnapshot;
    }

    // ---- Set-up: callers with state to reach the handlers' deeper paths ----

    private async Task<JsonElement> GetDocumentAsync()
    {
        using var response = await _http.GetAsync(new Uri(_server.Address, "/openapi/v1.json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync()).RootElement.Clone();
    }

    /// <summary>
    /// An admin and a partner caller (and another partner), each with an enrollment of the seed's two prospects, a
    /// webhook to the server's own /healthz, and deliveries of the events an ingest of those prospects detects.
    /// </summary>
    private async Task<FuzzContext> SetUpAsync(int seed)
    {
        var now = _server.Clock.GetUtcNow();
        var adminKey = await _server.Store.CreatePartnerAsync("fuzz admin", KeyScope.Admin, now, CancellationToken.None);
        var partnerKey = await _server.Store.CreatePartnerAsync("fuzz partner", KeyScope.Partner, now, CancellationToken.None);
        var otherKey = await _server.Store.CreatePartnerAsync("fuzz other", KeyScope.Partner, now, CancellationToken.None);
        var random = new Random(-seed);
        var prospects = Enumerable.Range(0, 2).Select(_ => Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64()))).Select(h => (h + h + h)[..40]).ToArray();
        var context = new FuzzContext(seed, _server.Address.Port,
            new FuzzCaller("admin", adminKey.Secret, adminKey.PartnerId), new FuzzCaller("partner", partnerKey.Secret, partnerKey.PartnerId), otherKey.PartnerId, prospects);

        foreach (var caller in new[] { context.Admin, context.Partner })
        {
            var enrollment = await SetUpRequestAsync(caller.Key, HttpMethod.Post, "/v1/prospects/events/enrollments",
                $$"""{"enrollment_key":"fuzz_monitor","event_types":["prospect_changed_role","prospect_changed_company","prospect_job_start_anniversary"],"prospect_ids":["{{prospects[0]}}","{{prospects[1]}}"]}""");
            context.EnrollmentsOf(caller.PartnerId).Add(enrollment.GetProperty("enrollment_id").GetString()!);
            await SetUpRequestAsync(caller.Key, HttpMethod.Post, "/v1/webhooks", $$"""{"partner_id":"{{caller.PartnerId}}","webhook_url":"{{context.WebhookUrl}}"}""");
        }

        var feed = string.Join('\n', prospects.SelectMany(p => new[]
        {
            Feed.Line(p, "2026-10-01T08:00:00Z", "Acme Corp", "VP Sales", "2019-11-01"),
            Feed.Line(p, "2026-10-15T08:00:00Z", "Globex", "Chief Revenue Officer", "2026-10-10"),
        }));
        var ingest = await SetUpRequestAsync(context.Admin.Key, HttpMethod.Post, "/v1/admin/observations", feed);
        Assert.True(ingest.GetProperty("events").GetInt32() > 0, $"The set-up ingest detected no event: {ingest}");

        foreach (var caller in new[] { context.Admin, context.Partner })
        {
            var deliveries = await SetUpRequestAsync(caller.Key, HttpMethod.Get, $"/v1/webhooks/{caller.PartnerId}/deliveries", null);
            context.DeliveriesOf(caller.PartnerId).AddRange(deliveries.GetProperty("deliveries").EnumerateArray().Select(d => d.GetProperty("delivery_id").GetString()!));
            Assert.NotEmpty(context.DeliveriesOf(caller.PartnerId));
        }
        return context;
    }

    private async Task<JsonElement> SetUpRequestAsync(string key, HttpMethod method, string path, string? json)
    {
        using var message = new HttpRequestMessage(method, new Uri(_server.Address, path));
        message.Headers.Add("api_key", key);
        if (json is not null) message.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await _http.SendAsync(message);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Set-up request {method} {path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Keeps the context's enrollment ids current: new ones from answers, deleted ones dropped.</summary>
    private static void Learn(FuzzContext context, FuzzRequest request, byte[] answer)
    {
        if (request.Operation.Path != "/v1/prospects/events/enrollments" || request.Operation.Method == "GET") return;
        var partnerId = request.ApiKey == context.Admin.Key ? context.Admin.PartnerId : context.Partner.PartnerId;
        try
        {
            if (request.Operation.Method == "DELETE")
            {
                using var sent = JsonDocument.Parse(request.Body);
                if (sent.RootElement.TryGetProperty("enrollment_id", out var id)) context.EnrollmentsOf(partnerId).Remove(id.GetString()!);
                return;
            }
            using var document = JsonDocument.Parse(answer);
            var enrollmentId = document.RootElement.GetProperty("enrollment_id").GetString()!;
            if (!context.EnrollmentsOf(partnerId).Contains(enrollmentId)) context.EnrollmentsOf(partnerId).Add(enrollmentId);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            // An accepted body the test cannot read back (duplicate names, odd escapes) teaches nothing.
        }
    }

    // ---- Sending and judging ----

    private async Task<(int Status, byte[]? Body, Exception? Error)> SendAsync(FuzzRequest request, int seed)
    {
        var uri = new Uri($"http://127.0.0.1:{_server.Address.Port.ToString(CultureInfo.InvariantCulture)}{request.Target}", Verbatim);
        using var message = new HttpRequestMessage(new HttpMethod(request.Operation.Method), uri);
        message.Headers.TryAddWithoutValidation("X-Correlation-ID", CorrelationId(seed, request.Index));
        if (request.ApiKey is not null) message.Headers.TryAddWithoutValidation("api_key", request.ApiKey);
        if (request.Body is not null)
        {
            message.Content = new ByteArrayContent(request.Body);
            message.Content.Headers.ContentType = new MediaTypeHeaderValue(request.ContentType);
        }
        try
        {
            using var response = await _http.SendAsync(message);
            return ((int)response.StatusCode, await response.Content.ReadAsByteArrayAsync(), null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            return (0, null, e);
        }
    }

    private static string CorrelationId(int seed, int index) => string.Create(CultureInfo.InvariantCulture, $"fuzz-{seed}-{index}");

    /// <summary>Why a 422 body is not FastAPI's <c>{"detail":[{"loc":[...],"msg":"...","type":"..."}]}</c>, or null.</summary>
    private static string? FastApiProblem(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("detail", out var detail) || detail.ValueKind != JsonValueKind.Array)
                return "no \"detail\" array";
            if (detail.GetArrayLength() == 0) return "\"detail\" is empty";
            foreach (var item in detail.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object) return "a \"detail\" entry is no object";
                if (!item.TryGetProperty("loc", out var loc) || loc.ValueKind != JsonValueKind.Array || loc.GetArrayLength() == 0) return "an entry has no \"loc\" list";
                if (loc[0].ValueKind != JsonValueKind.String || loc[0].GetString() is not ("body" or "query" or "path" or "header")) return $"\"loc\" starts with {loc[0].GetRawText()}";
                if (loc.EnumerateArray().Any(l => l.ValueKind is not (JsonValueKind.String or JsonValueKind.Number))) return "\"loc\" holds more than strings and integers";
                if (!item.TryGetProperty("msg", out var msg) || msg.ValueKind != JsonValueKind.String || msg.GetString() is not { Length: > 0 }) return "an entry has no \"msg\"";
                if (!item.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() is not { Length: > 0 }) return "an entry has no \"type\"";
            }
            return null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return $"not JSON ({e.Message})";
        }
    }

    /// <summary>An unhandled exception or anything logged as an error: Error or Critical, or any entry carrying an exception.</summary>
    private static bool IsError(CapturedLog entry) => entry.Level >= LogLevel.Error || entry.Exception is not null;

    private static string Describe(CapturedLog entry) =>
        $"{entry.Level} {entry.Category}{(entry.Exception is null ? "" : " " + entry.Exception.GetType().Name)}";

    /// <summary>Log entries go to the request whose correlation id they carry, else to the one just answered.</summary>
    private void AttributeLogs(Dictionary<int, RequestFailure> failures, List<FuzzRequest> sent, FuzzRequest current)
    {
        foreach (var entry in _logs.Drain())
        {
            if (!IsError(entry))
            {
                _warnings.Add($"{entry.Category}[{entry.EventId.Id}]");
                continue;
            }
            var owner = current;
            var note = "";
            if (entry.CorrelationId is not { } id) note = " (logged outside any request)";
            else if (id.StartsWith("fuzz-", StringComparison.Ordinal)
                && int.TryParse(id[(id.LastIndexOf('-') + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < sent.Count)
                owner = sent[index];
            else note = $" (logged for request {id}: one the server made to itself, e.g. a webhook test send)";
            Failure(failures, owner.Index, owner, "").Problems.Add(("logged " + Describe(entry), entry + note));
        }
    }

    private static RequestFailure Failure(Dictionary<int, RequestFailure> failures, int index, FuzzRequest? request, string answer)
    {
        if (!failures.TryGetValue(index, out var failure)) failures[index] = failure = new RequestFailure(request, answer);
        else if (failure.Answer.Length == 0) failure.Answer = answer;
        return failure;
    }

    private static string FirstDifference(string before, string after)
    {
        var a = before.Split('\n');
        var b = after.Split('\n');
        for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            var x = i < a.Length ? a[i] : "(nothing)";
            var y = i < b.Length ? b[i] : "(nothing)";
            if (x != y) return $"first difference at line {i + 1}: before «{FuzzGenerator.Shorten(x.TrimEnd())}», after «{FuzzGenerator.Shorten(y.TrimEnd())}»";
        }
        return "the snapshots differ";
    }

    /// <summary>The failures of one seed, one line per distinct (method, path, mutation kinds, problems), each with its first request in full.</summary>
    private string Report(int seed, int requests, Dictionary<int, RequestFailure> failures)
    {
        var distinct = failures.Values.OrderBy(f => f.Request?.Index ?? -1).GroupBy(f => f.Key).ToList();
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"Seed {seed} on {backend}: {failures.Count} of {requests} requests failed, {distinct.Count} distinct. ");
        text.Append(CultureInfo.InvariantCulture,
            $"Reproduce: dotnet test --filter \"FullyQualifiedName~{GetType().Name}&DisplayName~seed: {seed}\" ({TraceVariable}=1 lists every request; ");
        text.Append(CultureInfo.InvariantCulture, $"requests are numbered in the order sent, and carry X-Correlation-ID fuzz-{seed}-<number>).\n");
        var number = 0;
        foreach (var group in distinct)
        {
            var first = group.First();
            text.Append(CultureInfo.InvariantCulture, $"\n{++number}. {group.Key} (×{group.Count()})\n");
            if (first.Request is { } r)
            {
                text.Append(CultureInfo.InvariantCulture, $"   e.g. seed {seed} request #{r.Index}: {r.Operation.Method} {FuzzGenerator.Shorten(r.Target)} with api_key {KeyLabel(r)}\n");
                foreach (var detail in r.Details) text.Append(CultureInfo.InvariantCulture, $"   mutation: {detail}\n");
                text.Append(CultureInfo.InvariantCulture, $"   body {FuzzGenerator.Preview(r.Body)}\n");
            }
            if (first.Answer.Length > 0) text.Append(CultureInfo.InvariantCulture, $"   answer {first.Answer}\n");
            if (group.Count() > 1)
            {
                var others = group.Skip(1).Where(f => f.Request is not null).Take(12).Select(f => $"#{f.Request!.Index} ({string.Join("; ", f.Request.Details)})");
                text.Append(CultureInfo.InvariantCulture, $"   also: {FuzzGenerator.Shorten(string.Join(", ", others), 600)}\n");
            }
            foreach (var (_, detail) in first.Problems.Where(p => p.Detail.Length > 0).DistinctBy(p => p.Detail).Take(4))
                text.Append(CultureInfo.InvariantCulture, $"   {detail}\n");
        }
        return Printable(text.ToString());
    }

    /// <summary>Control characters (but the line feed) and lone surrogates as <c>\uXXXX</c>: what the server logged or stored may hold them.</summary>
    private static string Printable(string text)
    {
        var printable = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var lone = (char.IsHighSurrogate(c) && !(i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])))
                || (char.IsLowSurrogate(c) && !(i > 0 && char.IsHighSurrogate(text[i - 1])));
            if ((char.IsControl(c) && c != '\n') || lone) printable.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            else printable.Append(c);
        }
        return printable.ToString();
    }

    private static string KeyLabel(FuzzRequest request) =>
        request.ApiKey is null ? "(none)" : request.ApiKey == request.Caller?.Key ? request.Caller.Label : $"{FuzzGenerator.Shorten(request.ApiKey)} (not {request.Caller?.Label ?? "needed"})";

    private sealed class RequestFailure(FuzzRequest? request, string answer)
    {
        public FuzzRequest? Request { get; } = request;

        public string Answer { get; set; } = answer;

        public List<(string Code, string Detail)> Problems { get; } = [];

        /// <summary>What makes two failures the same: method, path, mutation kinds and the problems seen.</summary>
        public string Key => Request is null
            ? $"set-up: {string.Join(" + ", Problems.Select(p => p.Code).Distinct().Order(StringComparer.Ordinal))}"
            : $"{Request.Operation.Method} {Request.Operation.Path} [{Request.KindText}] → {string.Join(" + ", Problems.Select(p => p.Code).Distinct().Order(StringComparer.Ordinal))}";
    }
}

public sealed class SqliteFuzzTests(ITestOutputHelper output) : FuzzContract(Backend.Sqlite, output);

public sealed class PostgresFuzzTests(ITestOutputHelper output) : FuzzContract(Backend.Postgres, output);
