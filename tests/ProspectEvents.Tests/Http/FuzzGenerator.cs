using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace ProspectEvents.Tests.Http;

/// <summary>
/// One request of the sweep: a mutation <paramref name="Kind"/> at <paramref name="Site"/> (an index into the sites of
/// the operation's template body, or of its path or query parameters), with the <paramref name="Value"/>-th hostile
/// value of that kind, put at <paramref name="Position"/> (0 start, 1 middle, 2 end, 3 instead of the value).
/// </summary>
public sealed record FuzzCase(string Kind, int Site, int Value, int Position);

/// <summary>
/// Builds requests for an operation from its OpenAPI schema: a valid request (values the handlers accept, with the
/// context's ids), then made hostile. Two ways: the sweep (<see cref="Sweep"/>) puts every hostile value class at every
/// field of a template body, one mutation a request, the same list for every seed (the seeds share it out); random
/// requests (<see cref="Random"/>) pick one to three mutations and their values from the seed's generator.
/// </summary>
public sealed class FuzzGenerator(FuzzContext context)
{
    private static readonly string[] BodyKinds =
    [
        "invalid-utf8-value", "invalid-utf8-name", "lone-surrogate-value", "lone-surrogate-name", "control-char-value", "control-char-name",
        "wrong-type", "boundary-number", "boundary-date", "string-length", "array-length", "deep-nesting", "extra-field", "duplicate-name",
        "missing-field", "not-json", "empty-body", "truncated-body",
    ];

    // Invalid UTF-8: bytes no encoder writes, overlong forms, truncated multi-byte sequences, encoded surrogates, past U+10FFFF.
    private static readonly (byte[] Bytes, string Name)[] InvalidUtf8 =
    [
        ([0xFF], "0xFF"), ([0xFE], "0xFE"), ([0xC0, 0xAF], "overlong 0xC0 0xAF"), ([0xC1, 0xBF], "overlong 0xC1 0xBF"), ([0xE0, 0x80, 0xAF], "overlong 0xE0 0x80 0xAF"),
        ([0xE2, 0x82], "truncated 0xE2 0x82"), ([0xF0, 0x9F, 0x98], "truncated 0xF0 0x9F 0x98"), ([0xC3], "truncated 0xC3"), ([0x80], "lone continuation 0x80"),
        ([0xED, 0xA0, 0x80], "encoded surrogate 0xED 0xA0 0x80"), ([0xF4, 0x90, 0x80, 0x80], "beyond U+10FFFF 0xF4 0x90 0x80 0x80"), ([0xF8, 0x88, 0x80, 0x80, 0x80], "5-byte 0xF8"),
    ];

    private static readonly string[] LoneSurrogates = [@"\ud800", @"\udfff", @"\udbff", @"\udc00\ud800", @"\ud83d", @"\ud800\u0041", @"\ude00x"];

    // Control characters: as escapes (valid JSON) and raw (invalid JSON, except DEL).
    private static readonly (byte[] Bytes, string Name)[] ControlChars =
    [
        (Encoding.ASCII.GetBytes(@"\u0000"), @"\u0000"), (Encoding.ASCII.GetBytes(@"\u0001"), @"\u0001"), (Encoding.ASCII.GetBytes(@"\u001f"), @"\u001f"),
        (Encoding.ASCII.GetBytes(@"\u007f"), @"\u007f"), (Encoding.ASCII.GetBytes(@"\n\r"), @"\n\r"), (Encoding.ASCII.GetBytes(@"\u0000\u0000\u0000"), @"3×\u0000"),
        ([0x7F], "raw DEL 0x7F"), ([0x00], "raw NUL 0x00"), ([0x01], "raw 0x01"), ([0x1F], "raw 0x1F"), ([0x09], "raw TAB"),
    ];

    private static readonly string[] WrongTypes = ["42", "{}", "[]", "null", "true", "\"text\"", "1.5", "false", "[\"a\"]", "{\"a\":1}", "[null]", "-1"];

    private static readonly string[] BoundaryNumbers =
    [
        "0", "-1", "1", "2147483647", "2147483648", "-2147483648", "-2147483649", "4294967296", "9223372036854775807", "9223372036854775808",
        "-9223372036854775809", "18446744073709551616", "1e308", "-1e308", "1e309", "1E400", "-1E400", "-0", "-0.0", "0.0", "1.5", "0.5",
        "1.0", "10.0", "3650.0000000000001", "4e-324", "1e-400", "1e15", "1e16", "123456789012345678901234567890", new string('9', 400),
        "\"2147483648\"", "\"-0\"", "\" 7 \"", "\"1e3\"", "\"0x10\"", "\"\uFF11\"", "\"\u0663\"", "\"\"", "\"9223372036854775808\"", "\"1.5\"",
    ];

    private static readonly string[] BoundaryDates =
    [
        "0001-01-01", "9999-12-31", "9999-12-31T23:59:59.9999999Z", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00-14:00",
        "9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59+14:00", "9999-12-31T23:59:59.9999999+14:00", "0000-00-00", "2026-02-30", "2026-02-29",
        "2024-02-29", "2026-13-01", "2026-00-10", "2026-11-01T24:00:00Z", "2026-11-01T23:59:60Z", "2026-11-01T08:00:00+14:00", "2026-11-01T08:00:00-14:00",
        "2026-11-01T08:00:00+15:00", "2026-11-01T08:00:00+99:99", "2026-11-01T08:00:00", "2026-11-01T08:00:00.123456789012Z", "garbage", "T",
        "2026-11-01Tgarbage", "10000-01-01", "-2026-11-01", "2026-11", "2026", "20261101", "2026-11-01 08:00:00Z", "Sun, 01 Nov 2026 08:00:00 GMT",
        "1970-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2038-01-19T03:14:08Z", "+275760-09-13", "2026-W44-7", "2026-11-01T08:00Z", "1/11/2026",
    ];

    private static readonly string[] NotJson =
    [
        "hello", "<xml/>", "{'a':1}", "NaN", "[1,2", "{\"a\":1}}", "\"just a string\"", "42", "null", "[]", "a=1&b=2", "{,}", "{\"a\" 1}", "\uFEFF{}",
        "prospect_id,observed_at\n", "--\r\n\r\n", "{\"a\":1}\n{\"b\":2}",
    ];

    private static readonly string[] ExtraNames = ["color", "__proto__", "", " ", "enrollment_key ", "PARTNER_ID", "constructor", "$where", "a.b", "partner_id"];

    private static readonly string[] HostilePathValues =
    [
        "%00", "a%00b", "%2F", "a%2Fb", "..", "%2E%2E", ".", "%2e%2e%2f%2e%2e", "%FF", "%C0%AF", "%ED%A0%80", "%E2%82", "%01", "%1F", "%7F", "%0A", "%0D%0A",
        "%20", "%27", "%22", "%5C", "%25", "%3F", "%23", "pa_0000000000000000", "en_0000000000000000", "msg_000000000000000000000000",
        "%E6%97%A5%E6%9C%AC%E8%AA%9E-%C3%A9-%F0%9F%8E%89", "%EF%BF%BF", "%F0%9F%98", new string('a', 300), new string('a', 5000),
    ];

    private static readonly string[] HostileQueryValues =
    [
        "", "-1", "0", "1", "2", "1000", "1001", "2147483647", "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808", "1e3", "1.5",
        "%00", "1%00", "%FF", "%C0%AF", "abc", "%20%201", "%EF%BC%91", "+1", "0x10", "pending", "PENDING", "delivered", "failed", "%01", new string('9', 5000),
    ];

    private static readonly HashSet<string> DateFields = new(StringComparer.Ordinal) { "since", "timestamp_from", "timestamp_to", "event_time", "observed_at", "job_start_date" };

    private static readonly HashSet<string> NumberFields = new(StringComparer.Ordinal) { "ttl_days", "number_of_events" };

    private const int AuthVariants = 5;

    /// <summary>Later than the set-up's observations (<c>FuzzContract</c> ingests up to 2026-10-15), earlier than the clock.</summary>
    private static readonly DateTimeOffset AfterSetUp = new(2026, 10, 16, 0, 0, 0, TimeSpan.Zero);

    private readonly FuzzContext _context = context;

    // The number of the request being built: observations get later times and new employers request after request, so
    // each one is news that the store writes (a stale or unchanged observation never reaches the database).
    private int _index;

    // ---- The sweep ----

    /// <summary>Every case of the sweep for <paramref name="operation"/>, in a fixed order.</summary>
    public IReadOnlyList<FuzzCase> Sweep(FuzzOperation operation)
    {
        var cases = new List<FuzzCase>();
        var paths = operation.Parameters.Where(p => p.In == "path").ToList();
        for (var p = 0; p < paths.Count; p++)
            for (var v = 0; v <= HostilePathValues.Length; v++) cases.Add(new("path-param", p, v, 3)); // the last: another partner's id
        var queries = operation.Parameters.Where(p => p.In == "query").ToList();
        for (var q = 0; q < queries.Count; q++)
            for (var v = 0; v < HostileQueryValues.Length; v++) cases.Add(new("query-param", q, v, 0));
        if (!operation.Anonymous)
            for (var v = 0; v < AuthVariants - (operation.Admin ? 0 : 1); v++) cases.Add(new("auth", -1, v, 0));
        if (operation.Body is null) return cases;

        // The body as a whole.
        for (var v = 0; v < NotJson.Length + 2; v++) cases.Add(new("not-json", 0, v, 0));
        cases.Add(new("empty-body", 0, 0, 0));
        cases.Add(new("empty-body", 0, 1, 0));
        for (var v = 0; v < (operation.Ndjson ? 5 : 3); v++) cases.Add(new("truncated-body", 0, v, 0));
        for (var v = 0; v < 4; v++) cases.Add(new("deep-nesting", 0, v, 0));
        for (var v = 0; v < ExtraNames.Length; v++) cases.Add(new("extra-field", 0, v, 0));
        cases.Add(new("extra-field", 0, 0, 1)); // its value holds a lone surrogate, quoted back as "input"
        cases.Add(new("extra-field", 0, 0, 2)); // its value holds invalid UTF-8
        foreach (var v in new[] { 0, 1, 2, 5 }) cases.Add(new("wrong-type", 0, v, 0));
        foreach (var kind in new[] { "invalid-utf8-name", "lone-surrogate-name", "control-char-name" })
        {
            cases.Add(new(kind, 0, 0, 2));
            cases.Add(new(kind, 0, 1, 0));
        }

        // Each field (and the first item of each list) of the template.
        var sites = Sites(Template(operation, null).Lines[0], "body", _ => { });
        for (var s = 1; s < sites.Count; s++)
        {
            var site = sites[s];
            if (site.Path.Contains("[1]", StringComparison.Ordinal) || site.Path.Contains("[2]", StringComparison.Ordinal)) continue;
            if (site.Value is RawString)
            {
                foreach (var (v, at) in new[] { (0, 2), (2, 1), (5, 2), (10, 0) }) cases.Add(new("invalid-utf8-value", s, v, at));
                foreach (var (v, at) in new[] { (0, 2), (1, 3) }) cases.Add(new("lone-surrogate-value", s, v, at));
                foreach (var (v, at) in new[] { (0, 2), (0, 0), (1, 1), (2, 2), (3, 2), (6, 2) }) cases.Add(new("control-char-value", s, v, at));
                for (var v = 0; v < 3; v++) cases.Add(new("string-length", s, v, 0));
            }
            else
            {
                // A string where a list, object or number belongs: rejected with the value quoted back as "input".
                cases.Add(new("lone-surrogate-value", s, 0, 3));
                cases.Add(new("invalid-utf8-value", s, 0, 3));
            }
            for (var v = 0; v < 8; v++) cases.Add(new("wrong-type", s, v, 0));
            cases.Add(new("deep-nesting", s, 0, 0));
            cases.Add(new("deep-nesting", s, 3, 0));
            if (site.Name is not null && DateFields.Contains(site.Name) && site.Value is RawString)
                for (var v = 0; v < BoundaryDates.Length; v++) cases.Add(new("boundary-date", s, v, 0));
            if (site.Name is not null && NumberFields.Contains(site.Name) && site.Property is not null)
                for (var v = 0; v < BoundaryNumbers.Length; v++) cases.Add(new("boundary-number", s, v, 0));
            if (site.Value is RawArray)
                for (var v = 0; v < 6; v++) cases.Add(new("array-length", s, v, 0));
            if (site.Property is not null)
            {
                cases.Add(new("invalid-utf8-name", s, s % InvalidUtf8.Length, 1));
                cases.Add(new("lone-surrogate-name", s, s % LoneSurrogates.Length, 2));
                cases.Add(new("control-char-name", s, 0, 2));
                cases.Add(new("duplicate-name", s, 0, 0));
                cases.Add(new("duplicate-name", s, 1, 0));
                cases.Add(new("missing-field", s, 0, 0));
            }
        }
        return cases;
    }

    /// <summary>The request of one sweep case: the template request with exactly that mutation.</summary>
    public FuzzRequest Build(FuzzOperation operation, int index, FuzzCase sweep)
    {
        _index = index;
        var caller = operation.Anonymous ? null : operation.Admin ? _context.Admin : _context.Partner;
        var draft = Template(operation, caller);
        draft.Request = new FuzzRequest { Operation = operation, Index = index, Target = "", Caller = caller, ApiKey = caller?.Key };
        var random = new Random(StableHash($"{operation}|{sweep}"));
        Apply(draft, sweep.Kind, random, sweep);
        return Finish(draft);
    }

    /// <summary>
    /// The operation's template request: every optional field present, two items a list, the same structure whatever the
    /// caller or the context's state (so sweep cases' site numbers always find the same field).
    /// </summary>
    private Draft Template(FuzzOperation operation, FuzzCaller? caller)
    {
        var random = new Random(StableHash(operation.ToString()));
        var draft = new Draft(operation);
        foreach (var parameter in operation.Parameters.Where(p => p.In == "path")) draft.Path.Add((parameter.Name, Uri.EscapeDataString(ValidPathValue(parameter.Name, caller, random))));
        if (operation.Body is { } schema) draft.Lines.Add(Valid(schema, null, caller, random, 0, full: true));
        return draft;
    }

    // ---- Random requests ----

    /// <summary>A random request: valid for about one in twelve, else with one mutation, sometimes two or three.</summary>
    public FuzzRequest Random(FuzzOperation operation, int index, Random random)
    {
        _index = index;
        var caller = operation.Anonymous ? null
            : operation.Admin ? _context.Admin
            : random.Next(4) == 0 ? _context.Admin : _context.Partner;
        var full = random.Next(3) == 0;
        var draft = new Draft(operation)
        {
            Request = new FuzzRequest { Operation = operation, Index = index, Target = "", Caller = caller, ApiKey = caller?.Key },
        };
        foreach (var parameter in operation.Parameters.Where(p => p.In == "path")) draft.Path.Add((parameter.Name, Uri.EscapeDataString(ValidPathValue(parameter.Name, caller, random))));
        foreach (var parameter in operation.Parameters.Where(p => p.In == "query"))
        {
            if (random.Next(3) == 0) draft.Query.Add((parameter.Name, Uri.EscapeDataString(ValidText(parameter.Schema, parameter.Name, caller, random))));
        }
        if (operation.Body is { } schema)
        {
            var count = operation.Ndjson ? random.Next(1, 4) : 1;
            for (var i = 0; i < count; i++) draft.Lines.Add(Valid(schema, null, caller, random, 0, full));
        }

        var kinds = new List<string>();
        if (operation.Body is not null) kinds.AddRange(BodyKinds);
        if (draft.Path.Count > 0) kinds.AddRange(["path-param", "path-param"]);
        kinds.Add("query-param");
        if (operation.Parameters.Any(p => p.In == "query")) kinds.Add("query-param");
        if (!operation.Anonymous) kinds.Add("auth");
        var mutations = random.Next(25) switch { < 2 => 0, < 22 => 1, < 24 => 2, _ => 3 };
        for (var m = 0; m < mutations; m++) Apply(draft, kinds[random.Next(kinds.Count)], random, null);
        return Finish(draft);
    }

    // ---- Building ----

    private sealed class Draft(FuzzOperation operation)
    {
        public FuzzOperation Operation { get; } = operation;

        public FuzzRequest Request { get; set; } = null!;

        public List<(string Name, string Value)> Path { get; } = [];

        public List<(string Name, string Value)> Query { get; } = [];

        public List<RawJson> Lines { get; } = [];

        /// <summary>Set by the body-level mutations: the bytes to send instead of the lines.</summary>
        public byte[]? WholeBody { get; set; }
    }

    private FuzzRequest Finish(Draft draft)
    {
        var request = draft.Request;
        var path = draft.Operation.Path;
        foreach (var (name, value) in draft.Path) path = path.Replace("{" + name + "}", value, StringComparison.Ordinal);
        request.Target = draft.Query.Count == 0 ? path : path + "?" + string.Join('&', draft.Query.Select(q => $"{q.Name}={q.Value}"));
        if (draft.Operation.Body is not null)
        {
            request.Body = draft.WholeBody ?? Serialize(draft.Lines, draft.Operation.Ndjson);
            if (draft.Operation.Ndjson) request.ContentType = "application/x-ndjson";
        }
        CheckWebhookUrls(request);
        return request;
    }

    /// <summary>One mutation; <paramref name="sweep"/> fixes the site, value and position, else they are drawn.</summary>
    private void Apply(Draft draft, string kind, Random random, FuzzCase? sweep)
    {
        var request = draft.Request;
        int Choose(int count) => sweep is null ? random.Next(count) : sweep.Value % count;
        switch (kind)
        {
            case "path-param":
            {
                var at = sweep?.Site ?? random.Next(draft.Path.Count);
                var (name, valid) = draft.Path[at];
                var v = Choose(HostilePathValues.Length + 1);
                var hostile = v < HostilePathValues.Length ? HostilePathValues[v] : name == "partner_id" ? _context.OtherPartnerId : valid.ToUpperInvariant();
                var value = sweep is null && random.Next(4) == 0 ? valid + hostile : hostile;
                draft.Path[at] = (name, value);
                request.Mutated(kind, $"path {name} = {Shorten(value)}");
                return;
            }
            case "query-param":
            {
                var declared = draft.Operation.Parameters.Where(p => p.In == "query").Select(p => p.Name).ToList();
                var name = sweep is not null ? declared[sweep.Site]
                    : declared.Count > 0 && random.Next(4) != 0 ? declared[random.Next(declared.Count)]
                    : new[] { "x", "page", "%00", "a%FFb", "limit" }[random.Next(5)];
                var value = HostileQueryValues[Choose(HostileQueryValues.Length)];
                if (sweep is null && random.Next(3) == 0) draft.Query.Add((name, "1")); // repeated parameter
                else draft.Query.RemoveAll(q => q.Name == name);
                draft.Query.Add((name, value));
                request.Mutated(kind, $"query {name}={Shorten(value)}");
                return;
            }
            case "auth":
                MutateAuth(draft, Choose(draft.Operation.Admin ? AuthVariants : AuthVariants - 1), random);
                return;
            case "not-json":
            {
                var v = Choose(NotJson.Length + 2);
                draft.WholeBody = v < NotJson.Length ? Encoding.UTF8.GetBytes(NotJson[v])
                    : v == NotJson.Length ? [0x00, 0x01, 0x02, 0xFF, 0xFE, .. "{}"u8]
                    : Encoding.Unicode.GetBytes("{\"a\":1}");
                request.Mutated(kind, v < NotJson.Length ? $"body is {Shorten(NotJson[v])}" : v == NotJson.Length ? "body is binary" : "body is UTF-16 JSON");
                return;
            }
            case "empty-body":
                draft.WholeBody = Choose(2) == 0 ? [] : " \r\n\t"u8.ToArray();
                request.Mutated(kind, draft.WholeBody.Length == 0 ? "empty body" : "whitespace body");
                return;
            case "truncated-body":
            {
                var full = Serialize(draft.Lines, draft.Operation.Ndjson);
                var v = Choose(draft.Operation.Ndjson ? 5 : 3);
                if (v >= 3)
                {
                    var gzipped = Gzip(full);
                    draft.WholeBody = gzipped[..(v == 3 ? gzipped.Length / 2 : gzipped.Length - 4)];
                    request.Mutated(kind, $"gzip of the body cut at {draft.WholeBody.Length} of {gzipped.Length} bytes");
                }
                else
                {
                    var length = sweep is null ? random.Next(0, Math.Max(1, full.Length - 1)) : v switch { 0 => 1, 1 => full.Length / 2, _ => full.Length - 1 };
                    draft.WholeBody = full[..length];
                    request.Mutated(kind, $"body cut at {length} of {full.Length} bytes");
                }
                return;
            }
            default:
            {
                var line = sweep is null ? random.Next(draft.Lines.Count) : 0;
                draft.Lines[line] = MutateTree(kind, draft.Lines[line], draft.Operation.Ndjson ? $"line{line + 1}" : "body", request, random, sweep);
                return;
            }
        }
    }

    private static byte[] Serialize(List<RawJson> lines, bool ndjson)
    {
        using var output = new MemoryStream();
        for (var i = 0; i < lines.Count; i++)
        {
            if (i > 0) output.WriteByte((byte)'\n');
            lines[i].WriteTo(output);
        }
        if (ndjson) output.WriteByte((byte)'\n');
        return output.ToArray();
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(bytes);
        return output.ToArray();
    }

    public static int StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 16777619;
        }
        return (int)(hash & 0x7FFFFFFF);
    }

    // ---- Valid values ----

    private string ValidPathValue(string name, FuzzCaller? caller, Random random) => name switch
    {
        "partner_id" => caller?.PartnerId ?? _context.Partner.PartnerId,
        "delivery_id" => Pick(_context.DeliveriesOf(caller?.PartnerId ?? _context.Partner.PartnerId), random) ?? "msg_000000000000000000000000",
        "enrollment_id" => Pick(_context.EnrollmentsOf(caller?.PartnerId ?? _context.Partner.PartnerId), random) ?? "en_0000000000000000",
        _ => "fuzz",
    };

    /// <summary>One of <paramref name="values"/>; draws from <paramref name="random"/> even when there is none, so the draws that follow do not depend on state.</summary>
    private static string? Pick(List<string> values, Random random)
    {
        var draw = random.Next(1 << 30);
        return values.Count == 0 ? null : values[draw % values.Count];
    }

    /// <summary>A valid value of <paramref name="schema"/> for a field called <paramref name="name"/>; <paramref name="full"/>: every optional field, two items a list.</summary>
    private RawJson Valid(JsonElement schema, string? name, FuzzCaller? caller, Random random, int depth, bool full)
    {
        var types = Types(schema);
        if (schema.TryGetProperty("enum", out var options))
        {
            var allowed = options.EnumerateArray().Where(o => o.ValueKind != JsonValueKind.Null).ToList();
            var draw = random.Next(1 << 30);
            return allowed.Count == 0 ? RawJson.Token("null") : new RawToken(Encoding.UTF8.GetBytes(allowed[draw % allowed.Count].GetRawText()));
        }
        if (types.Contains("object") || schema.TryGetProperty("properties", out _))
        {
            var result = new RawObject();
            if (schema.TryGetProperty("properties", out var properties))
            {
                var required = schema.TryGetProperty("required", out var r) ? r.EnumerateArray().Select(e => e.GetString()!).ToHashSet(StringComparer.Ordinal) : [];
                foreach (var property in properties.EnumerateObject())
                {
                    var include = random.Next(2) == 0;
                    if (full || include || required.Contains(property.Name)) result.Add(property.Name, Valid(property.Value, property.Name, caller, random, depth + 1, full));
                }
            }
            else if (depth > 0 && (full || random.Next(2) == 0))
            {
                result.Add("source", RawJson.String("crm")).Add("campaign", RawJson.Token("7"));
            }
            return result;
        }
        if (types.Contains("array"))
        {
            var items = schema.TryGetProperty("items", out var i) ? i : default;
            var min = schema.TryGetProperty("minItems", out var mi) ? mi.GetInt32() : 0;
            var max = schema.TryGetProperty("maxItems", out var ma) ? ma.GetInt32() : 3;
            var drawn = random.Next(Math.Max(min, 1), 4);
            var count = Math.Clamp(full ? 2 : drawn, min, max);
            var array = new RawArray();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var k = 0; k < count; k++)
            {
                var item = items.ValueKind == JsonValueKind.Object ? Valid(items, name, caller, random, depth + 1, full) : RawJson.String("x");
                if (seen.Add(Encoding.UTF8.GetString(item.ToBytes()))) array.Items.Add(item); // unique: fetch refuses repeated prospect ids
            }
            return array;
        }
        if (types.Contains("integer") || types.Contains("number"))
        {
            var min = schema.TryGetProperty("minimum", out var lo) ? (long)lo.GetDouble() : 1;
            var max = schema.TryGetProperty("maximum", out var hi) ? (long)hi.GetDouble() : Math.Max(min, 1) + 100;
            return RawJson.Token((min + random.NextInt64(Math.Max(1, Math.Min(max - min + 1, 1_000_000)))).ToString(CultureInfo.InvariantCulture));
        }
        if (types.Contains("string") || types.Count == 0) return RawJson.String(ValidText(schema, name, caller, random));
        if (types.Contains("boolean")) return RawJson.Token(random.Next(2) == 0 ? "true" : "false");
        return RawJson.Token("null");
    }

    private static List<string> Types(JsonElement schema)
    {
        if (schema.ValueKind != JsonValueKind.Object || !schema.TryGetProperty("type", out var type)) return [];
        return type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).Where(t => t != "null").ToList() : [type.GetString()!];
    }

    /// <summary>A valid string for the field: the field's meaning first (ids the context knows), then the schema's rules.</summary>
    private string ValidText(JsonElement schema, string? name, FuzzCaller? caller, Random random)
    {
        var partnerId = caller?.PartnerId ?? _context.Partner.PartnerId;
        var draw = random.Next(1 << 30);
        if (schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("enum", out var options))
        {
            var allowed = options.EnumerateArray().Where(o => o.ValueKind == JsonValueKind.String).ToList();
            if (allowed.Count > 0) return allowed[draw % allowed.Count].GetString()!;
        }
        switch (name)
        {
            case "partner_id": return partnerId;
            case "enrollment_id": return Pick(_context.EnrollmentsOf(partnerId), random) ?? "en_0000000000000000";
            case "delivery_id": return Pick(_context.DeliveriesOf(partnerId), random) ?? "msg_000000000000000000000000";
            case "webhook_url": return _context.WebhookUrl;
            case "enrollment_key": return draw % 3 == 0 ? "fuzz_monitor" : $"fuzz_key_{(draw % 4).ToString(CultureInfo.InvariantCulture)}";
            case "prospect_ids" or "prospect_id":
                // The same draws either way: what follows must not depend on which was taken. Observations get a new prospect every other time.
                var fresh = RandomHex(random, 40);
                return (name == "prospect_id" ? _index % 2 == 0 : draw % 3 == 0) ? fresh : _context.Prospects[draw % _context.Prospects.Length];
            case "company_id": return RandomHex(random, 32);
            case "headers": return $"X-Fuzz-Seed: {_context.Seed.ToString(CultureInfo.InvariantCulture)}";
            case "scope": return draw % 4 == 0 ? "admin" : "partner";
            case "name": return $"Fuzz Partner {(draw % 100).ToString(CultureInfo.InvariantCulture)}";
            case "since" or "timestamp_from": return draw % 2 == 0 ? "2026-10-01" : "2026-10-01T00:00:00Z";
            case "timestamp_to": return draw % 2 == 0 ? "2026-11-01" : "2026-11-01T08:00:00+01:00";
            case "event_time": return "2026-10-20T10:00:00Z";
            case "observed_at": return AfterSetUp.AddMinutes(_index).AddSeconds(draw % 60).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            case "job_start_date": return draw % 2 == 0 ? "2021-03-15" : "2021-03";
            case "full_name": return "Dana Levi";
            case "job_title": return draw % 2 == 0 ? "VP Sales" : "Chief Revenue Officer";
            case "company_name": return $"Fuzz Co {_index.ToString(CultureInfo.InvariantCulture)}"; // a new employer each time: the store writes it
            case "company_domain": return "acme.example";
            case "linkedin_url": return "https://www.linkedin.com/in/dana-levi";
            case "status": return "pending";
            case "page" or "page_size" or "cursor": return (1 + draw % 5).ToString(CultureInfo.InvariantCulture);
        }
        if (schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("pattern", out var pattern) && pattern.GetString() is { } p && p.Contains("[0-9a-f]{40}", StringComparison.Ordinal))
            return RandomHex(random, 40);
        var minLength = schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("minLength", out var min) ? min.GetInt32() : 1;
        var maxLength = schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("maxLength", out var max) ? max.GetInt32() : 40;
        return "fuzz" + RandomHex(random, Math.Max(0, Math.Clamp(8, minLength, maxLength) - 4));
    }

    private static string RandomHex(Random random, int length)
    {
        var text = new StringBuilder(length);
        for (var i = 0; i < length; i++) text.Append("0123456789abcdef"[random.Next(16)]);
        return text.ToString();
    }

    // ---- Tree mutations ----

    private sealed record Site(string Path, string? Name, RawJson Value, Action<RawJson> Replace, RawProperty? Property, RawObject? Owner);

    /// <summary>Every value of the tree, the root first, in document order.</summary>
    private static List<Site> Sites(RawJson root, string rootPath, Action<RawJson> replaceRoot)
    {
        var sites = new List<Site> { new(rootPath, null, root, replaceRoot, null, null) };
        void Walk(RawJson node, string path, string? name)
        {
            switch (node)
            {
                case RawObject o:
                    foreach (var property in o.Properties)
                    {
                        var p = property;
                        var at = $"{path}.{p.NameText}";
                        sites.Add(new Site(at, p.NameText, p.Value, v => p.Value = v, p, o));
                        Walk(p.Value, at, p.NameText);
                    }
                    break;
                case RawArray a:
                    for (var i = 0; i < a.Items.Count; i++)
                    {
                        var k = i;
                        var at = $"{path}[{k.ToString(CultureInfo.InvariantCulture)}]";
                        sites.Add(new Site(at, name, a.Items[k], v => a.Items[k] = v, null, null));
                        Walk(a.Items[k], at, name);
                    }
                    break;
            }
        }
        Walk(root, rootPath, null);
        return sites;
    }

    /// <summary>Applies one tree mutation of <paramref name="kind"/> to <paramref name="root"/>; returns the (maybe new) root.</summary>
    private static RawJson MutateTree(string kind, RawJson root, string rootPath, FuzzRequest request, Random random, FuzzCase? sweep)
    {
        var result = root;
        var sites = Sites(root, rootPath, v => result = v);
        var fields = sites.Where(s => s.Property is not null).ToList();
        var strings = sites.Where(s => s.Value is RawString).ToList();
        var objects = sites.Where(s => s.Value is RawObject).ToList();
        Site Any() => sites.Count > 1 && random.Next(8) != 0 ? sites[1 + random.Next(sites.Count - 1)] : sites[0];
        Site Prefer(Func<Site, bool> fit) => sites.Where(fit).ToList() is { Count: > 0 } fitting && random.Next(6) != 0 ? fitting[random.Next(fitting.Count)] : Any();
        Site At(Func<Site, bool> fit) => sweep is not null ? sites[sweep.Site] : Prefer(fit);
        int Choose(int count) => sweep is null ? random.Next(count) : sweep.Value % count;
        int Where() => sweep?.Position ?? random.Next(4);
        if (kind == "duplicate-name" && fields.Count == 0) kind = "extra-field"; // an empty object: nothing to repeat
        if (kind == "missing-field" && fields.Count == 0) kind = "wrong-type"; // nor to leave out

        switch (kind)
        {
            case "invalid-utf8-value" or "lone-surrogate-value" or "control-char-value":
            {
                var site = At(s => s.Value is RawString);
                var (bytes, what) = Hostile(kind, Choose);
                site.Replace(new RawString(Insert(Content(site.Value), bytes, Where(), site.Name == "webhook_url", out var where)));
                request.Mutated(kind, $"{site.Path}: {what} {where}");
                break;
            }
            case "invalid-utf8-name" or "lone-surrogate-name" or "control-char-name":
            {
                var (bytes, what) = Hostile(kind, Choose);
                var rename = sweep is not null ? sweep.Site > 0 : fields.Count > 0 && random.Next(2) == 0;
                if (rename)
                {
                    var site = sweep is not null ? sites[sweep.Site] : fields[random.Next(fields.Count)];
                    site.Property!.Name = Insert(site.Property.Name, bytes, Math.Min(Where(), 2), false, out var where);
                    request.Mutated(kind, $"{site.Path}: name with {what} {where}");
                }
                else
                {
                    var owner = sweep is not null ? sites[0].Value as RawObject : objects.Count > 0 ? (RawObject)objects[random.Next(objects.Count)].Value : null;
                    if (owner is null)
                    {
                        owner = new RawObject();
                        sites[0].Replace(owner);
                    }
                    var position = sweep is not null ? (sweep.Position == 0 ? 0 : owner.Properties.Count) : random.Next(owner.Properties.Count + 1);
                    owner.Properties.Insert(position, new RawProperty([.. "x"u8, .. bytes, .. "y"u8], RawJson.String("v")));
                    request.Mutated(kind, $"new property named x{what}y");
                }
                break;
            }
            case "wrong-type":
            {
                var site = sweep is not null ? sites[sweep.Site] : Any();
                var token = WrongTypes[Choose(WrongTypes.Length)];
                site.Replace(RawJson.Token(token));
                request.Mutated(kind, $"{site.Path} = {token}");
                break;
            }
            case "boundary-number":
            {
                var site = At(s => s.Name is not null && NumberFields.Contains(s.Name));
                var token = BoundaryNumbers[Choose(BoundaryNumbers.Length)];
                site.Replace(RawJson.Token(token));
                request.Mutated(kind, $"{site.Path} = {Shorten(token)}");
                break;
            }
            case "boundary-date":
            {
                var site = At(s => s.Name is not null && DateFields.Contains(s.Name) && s.Value is RawString);
                var date = BoundaryDates[Choose(BoundaryDates.Length)];
                if (sweep is null && site.Value is RawObject o && o.Properties.Count == 0 && random.Next(2) == 0)
                {
                    o.Add("event_time", RawJson.String(date)); // an object without fields of its own (the simulation) gets a date
                    request.Mutated(kind, $"{site.Path}.event_time = \"{date}\"");
                    break;
                }
                site.Replace(RawJson.String(date));
                request.Mutated(kind, $"{site.Path} = \"{date}\"");
                break;
            }
            case "string-length":
            {
                var site = At(s => s.Value is RawString);
                var (text, what) = Choose(5) switch
                {
                    0 => ("", "\"\""),
                    1 => ("a", "\"a\""),
                    2 => (new string('x', 100_000), "100,000 × 'x'"),
                    3 => (string.Concat(Enumerable.Repeat("é", 100_000)), "100,000 × 'é'"),
                    _ => (Text(site.Value) + new string('k', 100_000 - 1), "the valid value + 99,999 × 'k'"),
                };
                site.Replace(RawJson.String(text));
                request.Mutated(kind, $"{site.Path} = {what}");
                break;
            }
            case "array-length":
            {
                var site = At(s => s.Value is RawArray);
                var v = Choose(6);
                var count = v switch { 0 => 0, 1 => 1, 2 or 4 => 41, _ => 10_000 };
                var distinct = v < 4 && (sweep is not null || random.Next(2) == 0);
                var model = site.Value is RawArray { Items.Count: > 0 } a ? a.Items[0] : RawJson.String("x");
                var array = new RawArray();
                for (var i = 0; i < count; i++)
                {
                    array.Items.Add(distinct && model is RawString
                        ? RawJson.String(site.Name is "prospect_ids" ? i.ToString("x40", CultureInfo.InvariantCulture) : $"{Text(model)}{i.ToString(CultureInfo.InvariantCulture)}")
                        : model.Clone());
                }
                site.Replace(array);
                request.Mutated(kind, $"{site.Path} = {count} {(distinct ? "distinct" : "equal")} items");
                break;
            }
            case "deep-nesting":
            {
                var site = sweep is not null ? sites[sweep.Site] : Any();
                var v = Choose(4);
                var depth = v % 2 == 0 ? 1_000 : 10_000;
                var text = v < 2
                    ? new string('[', depth) + new string(']', depth)
                    : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);
                site.Replace(RawJson.Token(text));
                request.Mutated(kind, $"{site.Path} = {(v < 2 ? "array" : "object")} nested {depth} deep");
                break;
            }
            case "extra-field":
            {
                var owner = sweep is not null ? sites[0] : objects.Count > 0 ? objects[random.Next(objects.Count)] : null;
                var extra = ExtraNames[Choose(ExtraNames.Length)];
                if (owner?.Value is not RawObject target)
                {
                    var replacement = new RawObject().Add(extra, RawJson.String("red"));
                    sites[0].Replace(replacement);
                    request.Mutated(kind, $"body replaced by {{\"{extra}\":\"red\"}}");
                    break;
                }
                var v = sweep?.Position ?? random.Next(4);
                RawJson value = v switch
                {
                    1 => new RawString(Encoding.ASCII.GetBytes(@"red\ud800")),
                    2 => new RawString([.. "red"u8, 0xFF]),
                    3 => new RawObject().Add("x", RawJson.Token("1")),
                    _ => RawJson.String("red"),
                };
                target.Properties.Insert(sweep is not null ? target.Properties.Count : random.Next(target.Properties.Count + 1), new RawProperty(RawJson.Escape(extra), value));
                request.Mutated(kind, $"{owner.Path}: extra field \"{extra}\" = {Encoding.UTF8.GetString(value.ToBytes())}");
                break;
            }
            case "duplicate-name":
            {
                var site = sweep is not null ? sites[sweep.Site] : fields[random.Next(fields.Count)];
                var index = site.Owner!.Properties.IndexOf(site.Property!);
                var (value, what) = Choose(3) switch
                {
                    0 => (site.Value.Clone(), "same value"),
                    1 => (RawJson.Token(WrongTypes[random.Next(WrongTypes.Length)]), "wrong-typed value"),
                    _ => (RawJson.String("fuzz-duplicate"), "another string"),
                };
                site.Owner.Properties.Insert(sweep is not null || random.Next(2) == 0 ? index + 1 : site.Owner.Properties.Count, new RawProperty(site.Property!.Name, value));
                request.Mutated(kind, $"{site.Path} twice ({what})");
                break;
            }
            case "missing-field":
            {
                var site = sweep is not null ? sites[sweep.Site] : fields[random.Next(fields.Count)];
                site.Owner!.Properties.Remove(site.Property!);
                request.Mutated(kind, $"{site.Path} removed");
                break;
            }
            default:
                throw new InvalidOperationException($"Unknown mutation kind {kind}");
        }
        return result;
    }

    private static (byte[] Bytes, string Name) Hostile(string kind, Func<int, int> choose) => kind switch
    {
        "invalid-utf8-value" or "invalid-utf8-name" => InvalidUtf8[choose(InvalidUtf8.Length)],
        "lone-surrogate-value" or "lone-surrogate-name" => LoneSurrogates[choose(LoneSurrogates.Length)] is var s ? (Encoding.ASCII.GetBytes(s), s) : default,
        _ => ControlChars[choose(ControlChars.Length)],
    };

    /// <summary>The escaped bytes of a string value; for other values, their text (so a mutated number becomes a string).</summary>
    private static byte[] Content(RawJson value) => value switch
    {
        RawString s => s.Content,
        RawToken t when t.Bytes.Length < 64 => RawJson.Escape(Encoding.UTF8.GetString(t.Bytes)),
        _ => "fuzz"u8.ToArray(),
    };

    private static string Text(RawJson value) => value is RawString s ? Encoding.UTF8.GetString(s.Content) : "v";

    /// <summary>
    /// Puts <paramref name="bytes"/> at the start (0), middle (1) or end (2) of <paramref name="content"/>, or instead of
    /// it (3), never inside an escape. In a webhook URL only after the path or instead of it: host and port stay the
    /// server's own.
    /// </summary>
    private static byte[] Insert(byte[] content, byte[] bytes, int position, bool urlTail, out string where)
    {
        if (urlTail && position < 2) position = 2;
        if (position == 3)
        {
            where = "as the whole value";
            return bytes;
        }
        var at = position switch { 0 => 0, 1 => content.Length / 2, _ => content.Length };
        while (at > 0 && at < content.Length && Array.LastIndexOf(content, (byte)'\\', at - 1) >= Math.Max(0, at - 6)) at--; // not inside \uXXXX
        where = position switch { 0 => "prepended", 1 => $"inserted at byte {at.ToString(CultureInfo.InvariantCulture)}", _ => "appended" };
        return [.. content[..at], .. bytes, .. content[at..]];
    }

    private void MutateAuth(Draft draft, int variant, Random random)
    {
        var request = draft.Request;
        switch (variant)
        {
            case 0:
                request.ApiKey = null;
                request.Mutated("auth", "no api_key header");
                break;
            case 1:
                request.ApiKey = "pek_" + Convert.ToBase64String(BitConverter.GetBytes(random.NextInt64())).TrimEnd('=').Replace('+', '-').Replace('/', '_').PadRight(43, 'A');
                request.Mutated("auth", "unknown key of the right shape");
                break;
            case 2:
                request.ApiKey = new[] { "x", "pek_", "pek_" + new string('A', 44), "Bearer " + _context.Partner.Key, _context.Partner.Key.ToUpperInvariant() }[random.Next(5)];
                request.Mutated("auth", $"malformed key {Shorten(request.ApiKey)}");
                break;
            case 3:
                // The other caller's key: on a partner route, the path's and body's partner_id is no longer the caller's.
                request.ApiKey = request.Caller == _context.Admin ? _context.Partner.Key : _context.Admin.Key;
                request.Mutated("auth", "the other caller's key");
                break;
            default:
                request.ApiKey = _context.Partner.Key;
                request.Mutated("auth", "partner key on an admin route");
                break;
        }
    }

    /// <summary>
    /// Webhook URLs the fuzzer sends are its own server's or no absolute http(s) URL at all: a test send must never
    /// leave the machine, nor make the server resolve a name. A generator bug that breaks this fails loudly.
    /// </summary>
    private void CheckWebhookUrls(FuzzRequest request)
    {
        if (request.Body is null || request.Operation.Ndjson) return;
        List<string> urls;
        try
        {
            using var document = JsonDocument.Parse(request.Body);
            urls = StringsNamed(document.RootElement, "webhook_url").ToList();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return; // not JSON, or a string no reader can decode: no URL a sender could use
        }
        foreach (var url in urls)
        {
            if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
                && !(uri.Host == "127.0.0.1" && uri.Port == _context.Port))
                throw new InvalidOperationException($"The fuzzer generated a webhook_url off its own server: {url}");
        }
    }

    private static IEnumerable<string> StringsNamed(JsonElement element, string name)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (property.NameEquals(name) && property.Value.ValueKind == JsonValueKind.String) yield return property.Value.GetString()!;
                foreach (var inner in StringsNamed(property.Value, name)) yield return inner;
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                foreach (var inner in StringsNamed(item, name)) yield return inner;
            }
        }
    }

    public static string Shorten(string text, int max = 60) =>
        text.Length <= max ? text : $"{text[..(max * 2 / 3)]}…({text.Length.ToString(CultureInfo.InvariantCulture)} chars)";

    /// <summary>The first bytes of a body, printable ASCII as is and everything else as <c>\xNN</c> (which no JSON escape looks like).</summary>
    public static string Preview(byte[]? body, int max = 200)
    {
        if (body is null) return "(no body)";
        var text = new StringBuilder();
        foreach (var b in body.Take(max))
        {
            if (b is >= 0x20 and < 0x7F) text.Append((char)b);
            else text.Append(CultureInfo.InvariantCulture, $"\\x{b:X2}");
        }
        if (body.Length > max) text.Append('…');
        return $"({body.Length.ToString(CultureInfo.InvariantCulture)} bytes) {text}";
    }
}
