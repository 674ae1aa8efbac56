using System.Globalization;
using System.Text.Json;

namespace ProspectEvents.Tests.Http;

/// <summary>A path or query parameter of an operation, as the OpenAPI document declares it.</summary>
public sealed record FuzzParameter(string Name, string In, JsonElement Schema);

/// <summary>One path × method of the OpenAPI document, with what the fuzzer needs to build its requests.</summary>
public sealed record FuzzOperation(string Method, string Path, IReadOnlyList<FuzzParameter> Parameters, JsonElement? Body, bool Ndjson, bool Admin, bool Anonymous)
{
    public override string ToString() => $"{Method} {Path}";
}

public static class OpenApiOperations
{
    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

    /// <summary>
    /// Query parameters that docs/api.md and the operations' descriptions name but the document does not declare
    /// (the handlers read them from the query string themselves). Added to what the document declares, never
    /// instead of it.
    /// </summary>
    private static readonly Dictionary<string, string[]> UndeclaredQuery = new(StringComparer.Ordinal)
    {
        ["GET /v1/prospects/events/enrollments"] = ["""{"name":"page","schema":{"type":"integer","minimum":1}}""", """{"name":"page_size","schema":{"type":"integer","minimum":1,"maximum":1000}}"""],
        ["GET /v1/webhooks/{partner_id}/deliveries"] =
        [
            """{"name":"status","schema":{"enum":["pending","delivered","failed"]}}""",
            """{"name":"page_size","schema":{"type":"integer","minimum":1,"maximum":1000}}""",
            """{"name":"cursor","schema":{"type":"integer","minimum":1}}""",
        ],
    };

    /// <summary>
    /// The body of <c>POST /v1/admin/observations</c>, which the document leaves out (it is NDJSON, read as a stream):
    /// one observation a line, as docs/api.md describes it.
    /// </summary>
    public const string ObservationSchema = """
        {"type":"object","required":["prospect_id","observed_at"],"properties":{
          "prospect_id":{"type":"string","pattern":"^[0-9a-f]{40}$"},
          "observed_at":{"type":"string","format":"date-time"},
          "full_name":{"type":["null","string"]},
          "job_title":{"type":["null","string"]},
          "job_department":{"type":["null","string"]},
          "job_seniority_level":{"type":["null","string"]},
          "company_id":{"type":["null","string"],"pattern":"^[0-9a-f]{32}$"},
          "company_name":{"type":["null","string"]},
          "company_domain":{"type":["null","string"]},
          "job_start_date":{"type":["null","string"],"format":"date"},
          "linkedin_url":{"type":["null","string"]}}}
        """;

    public static IReadOnlyList<FuzzOperation> Read(JsonElement document)
    {
        var operations = new List<FuzzOperation>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            var shared = path.Value.TryGetProperty("parameters", out var common) ? common.EnumerateArray().ToList() : [];
            foreach (var method in path.Value.EnumerateObject().Where(m => Methods.Contains(m.Name, StringComparer.Ordinal)))
            {
                var operation = method.Value;
                var declared = shared.Concat(operation.TryGetProperty("parameters", out var own) ? own.EnumerateArray() : [])
                    .Select(p => Resolve(document, p))
                    .Select(p => new FuzzParameter(p.GetProperty("name").GetString()!, p.GetProperty("in").GetString()!,
                        p.TryGetProperty("schema", out var schema) ? Resolve(document, schema) : default))
                    .ToList();
                var key = $"{method.Name.ToUpperInvariant()} {path.Name}";
                if (UndeclaredQuery.TryGetValue(key, out var extra))
                {
                    foreach (var json in extra)
                    {
                        var parameter = JsonDocument.Parse(json).RootElement.Clone();
                        var name = parameter.GetProperty("name").GetString()!;
                        if (!declared.Any(p => p.In == "query" && p.Name == name)) declared.Add(new FuzzParameter(name, "query", parameter.GetProperty("schema")));
                    }
                }

                JsonElement? body = operation.TryGetProperty("requestBody", out var requestBody)
                    && requestBody.TryGetProperty("content", out var content)
                    && content.TryGetProperty("application/json", out var media)
                    && media.TryGetProperty("schema", out var bodySchema)
                    ? Resolve(document, bodySchema)
                    : null;
                var tags = operation.TryGetProperty("tags", out var t) ? t.EnumerateArray().Select(x => x.GetString()).ToList() : [];
                var description = operation.TryGetProperty("description", out var d) ? d.GetString() ?? "" : "";
                var ndjson = body is null && description.Contains("NDJSON", StringComparison.Ordinal);
                if (ndjson) body = JsonDocument.Parse(ObservationSchema).RootElement.Clone();
                operations.Add(new FuzzOperation(method.Name.ToUpperInvariant(), path.Name, declared, body, ndjson, tags.Contains("Admin"), tags.Contains("Health")));
            }
        }
        return operations;
    }

    /// <summary>Follows a local <c>$ref</c> (<c>#/components/...</c>); anything else is returned as is.</summary>
    public static JsonElement Resolve(JsonElement document, JsonElement element)
    {
        while (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("$ref", out var reference) && reference.GetString() is { } target && target.StartsWith("#/", StringComparison.Ordinal))
        {
            var node = document;
            foreach (var part in target[2..].Split('/')) node = node.GetProperty(part.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal));
            element = node;
        }
        return element;
    }
}

/// <summary>Who sends a request: an API key and the partner it belongs to.</summary>
public sealed record FuzzCaller(string Label, string Key, string PartnerId);

/// <summary>
/// What the fuzzer knows of the server's state, so that valid values reach the handlers' deeper paths: the callers'
/// partner ids, their enrollments (kept up to date from the answers) and deliveries, the seed's prospects.
/// </summary>
public sealed class FuzzContext(int seed, int port, FuzzCaller admin, FuzzCaller partner, string otherPartnerId, string[] prospects)
{
    public int Seed { get; } = seed;

    public int Port { get; } = port;

    public FuzzCaller Admin { get; } = admin;

    public FuzzCaller Partner { get; } = partner;

    /// <summary>A partner that no key of the fuzzer belongs to (403 on webhook routes).</summary>
    public string OtherPartnerId { get; } = otherPartnerId;

    /// <summary>Prospects with events (ingested by the set-up), monitored by both callers' enrollments.</summary>
    public string[] Prospects { get; } = prospects;

    /// <summary>The server's own address: webhooks point at it, so test sends never leave it.</summary>
    public string WebhookUrl => $"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/healthz";

    public Dictionary<string, List<string>> Enrollments { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, List<string>> Deliveries { get; } = new(StringComparer.Ordinal);

    public List<string> EnrollmentsOf(string partnerId) => Enrollments.TryGetValue(partnerId, out var list) ? list : Enrollments[partnerId] = [];

    public List<string> DeliveriesOf(string partnerId) => Deliveries.TryGetValue(partnerId, out var list) ? list : Deliveries[partnerId] = [];
}

/// <summary>One generated request, and what was done to it, to be quoted when it fails.</summary>
public sealed class FuzzRequest
{
    public required FuzzOperation Operation { get; init; }

    public required int Index { get; init; }

    /// <summary>Path and query as sent, percent-encoding included.</summary>
    public required string Target { get; set; }

    public byte[]? Body { get; set; }

    public string ContentType { get; set; } = "application/json";

    public FuzzCaller? Caller { get; set; }

    /// <summary>The api_key header sent (null: none), which differs from the caller's for auth mutations.</summary>
    public string? ApiKey { get; set; }

    /// <summary>The mutation kinds applied (none: a valid request).</summary>
    public List<string> Kinds { get; } = [];

    /// <summary>Where and how, one entry a mutation, e.g. <c>body.prospect_ids[0]: 0xFF appended</c>.</summary>
    public List<string> Details { get; } = [];

    public string KindText => Kinds.Count == 0 ? "valid" : string.Join('+', Kinds.Distinct().Order(StringComparer.Ordinal));

    public void Mutated(string kind, string detail)
    {
        Kinds.Add(kind);
        Details.Add(detail);
    }
}
