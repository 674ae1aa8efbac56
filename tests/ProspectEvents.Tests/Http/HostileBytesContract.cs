using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.Http;

/// <summary>
/// Bytes that are no text, control characters and dates at the ends of the calendar get a 4xx with a <c>loc</c>, the
/// same on both backends, and change nothing; a body that stalls gets 408.
/// </summary>
public abstract class HostileBytesContract(Backend backend) : IAsyncLifetime
{
    private const string Good = "20ae6cbf564ee683e66685e429844a5ff8ffc30f";

    private ServerUnderTest _server = null!;

    public async Task InitializeAsync() => _server = await ServerUnderTest.StartAsync(backend);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>The enrollment body with <paramref name="key"/> (raw bytes) as its key and <paramref name="secondId"/> as a second id.</summary>
    private static byte[] Enrollment(byte[] key, string secondId = Good) =>
        [.. "{\"enrollment_key\":\""u8, .. key, .. Encoding.UTF8.GetBytes($"\",\"event_types\":[\"prospect_changed_role\"],\"prospect_ids\":[\"{Good}\",\"{secondId}\"]}}")];

    public static TheoryData<string, byte[], string, string> NotText => new()
    {
        { "a byte that is never UTF-8", Enrollment([.. "abcd"u8, 0xFF]), """["body","enrollment_key"]""", "string_unicode" },
        { "an overlong encoding of '/'", Enrollment([.. "abcd"u8, 0xC0, 0xAF]), """["body","enrollment_key"]""", "string_unicode" },
        { "a sequence cut short", Enrollment([.. "abcd"u8, 0xE2, 0x82]), """["body","enrollment_key"]""", "string_unicode" },
        { "an escaped lone high surrogate", Enrollment("abcd\\ud800"u8.ToArray()), """["body","enrollment_key"]""", "string_unicode" },
        { "an escaped lone low surrogate", Enrollment("abcd\\udfff"u8.ToArray()), """["body","enrollment_key"]""", "string_unicode" },
        { "a lone surrogate in a list", Enrollment("abcd"u8.ToArray(), "\\ud83d"), """["body","prospect_ids",1]""", "string_unicode" },
        { "a lone surrogate in a property name", [.. "{\"enrollment_key\":\"abcd\",\"x\\udc00\":1}"u8], """["body"]""", "json_invalid" },
        { "invalid UTF-8 in a property name", [.. "{\"enrollment_key\":\"abcd\",\"x"u8, 0xFE, .. "\":1}"u8], """["body"]""", "json_invalid" },
        { "a NUL in a key", Enrollment("ab\\u0000cd"u8.ToArray()), """["body","enrollment_key"]""", "string_pattern_mismatch" },
        { "a control character in a key", Enrollment("abcd\\u001b[31m"u8.ToArray()), """["body","enrollment_key"]""", "string_pattern_mismatch" },
        { "a DEL in a key", Enrollment("abcd\\u007f"u8.ToArray()), """["body","enrollment_key"]""", "string_pattern_mismatch" },
        { "a NUL in a list item", Enrollment("abcd"u8.ToArray(), "\\u0000"), """["body","prospect_ids",1]""", "string_pattern_mismatch" },
    };

    [Theory]
    [MemberData(nameof(NotText))]
    public async Task TextThatIsNotTextIsRefusedWhereItStandsAndChangesNothing(string kind, byte[] body, string loc, string type)
    {
        using var client = _server.Client(_server.AdminKey);
        var before = await DatabaseSnapshot.TakeAsync(_server.Store);

        var error = await (await client.PostAsync(EnrollmentsPath, Raw(body))).ExpectAsync(422);

        var problem = Assert.Single(error.GetProperty("detail").EnumerateArray());
        Assert.True(loc == problem.GetProperty("loc").GetRawText(), $"{kind}: loc {problem.GetProperty("loc")}");
        Assert.Equal(type, problem.GetProperty("type").GetString());
        Assert.Equal(before, await DatabaseSnapshot.TakeAsync(_server.Store));
    }

    [Fact]
    public async Task AnEscapedSurrogatePairIsText()
    {
        using var client = _server.Client(_server.AdminKey);
        var created = await (await client.PostAsync(EnrollmentsPath, Raw(Enrollment("rocket \\ud83d\\ude80"u8.ToArray())))).ExpectAsync(200);
        Assert.Equal("rocket \U0001F680", created.GetProperty("enrollment_key").GetString());
    }

    [Theory]
    [InlineData("/v1/webhooks", """{"partner_id":"{partner}","webhook_url":"https://hooks.example.com/a\u0000b"}""", """["body","webhook_url"]""")]
    [InlineData("/v1/webhooks", """{"partner_id":"{partner}","webhook_url":"https://hooks.example.com/\ud800"}""", """["body","webhook_url"]""")]
    [InlineData("/v1/admin/partners", """{"name":"acme\u0000"}""", """["body","name"]""")]
    [InlineData("/v1/prospects/events", """{"prospect_ids":["20ae6cbf564ee683e66685e429844a5ff8ffc30f"],"event_types":["prospect_changed_role"],"timestamp_from":"2026\u0000-01-01"}""", """["body","timestamp_from"]""")]
    public async Task EveryEndpointRefusesNulsAndLoneSurrogatesAlike(string path, string body, string loc)
    {
        using var client = _server.Client(_server.AdminKey);
        var partner = await _server.SqlAsync("SELECT partner_id FROM partners LIMIT 1");
        var before = await DatabaseSnapshot.TakeAsync(_server.Store);

        var error = await (await client.PostJsonAsync(path, body.Replace("{partner}", (string)partner!, StringComparison.Ordinal))).ExpectAsync(422);

        Assert.Equal(loc, error.GetProperty("detail")[0].GetProperty("loc").GetRawText());
        Assert.Equal(before, await DatabaseSnapshot.TakeAsync(_server.Store));
    }

    [Theory]
    [InlineData("0001-01-01", "9999-12-31")]
    [InlineData("0001-01-01T00:00:00Z", "9999-12-31T23:59:59.9999999Z")]
    [InlineData("2026-01-01", "9999-12-31T23:59:59+00:00")]
    public async Task DatesAtTheEndsOfTheCalendarAreServed(string from, string to)
    {
        using var client = _server.Client(_server.AdminKey);
        var answer = await (await client.PostJsonAsync("/v1/prospects/events",
            $$"""{"prospect_ids":["{{Good}}"],"event_types":["prospect_changed_role"],"timestamp_from":"{{from}}","timestamp_to":"{{to}}"}""")).ExpectAsync(200);
        Assert.Equal(JsonValueKind.Array, answer.GetProperty("output_events").ValueKind);
    }

    [Theory]
    [InlineData("10000-01-01")] [InlineData("0000-12-31")] [InlineData("2026-02-30")] [InlineData("0001-01-01T00:00:00+14:00")]
    [InlineData("9999-12-31T23:59:59-01:00")] [InlineData("2026-13-01T00:00:00Z")]
    public async Task DatesPastTheCalendarAreRefused(string date)
    {
        using var client = _server.Client(_server.AdminKey);
        var error = await (await client.PostJsonAsync("/v1/prospects/events",
            $$"""{"prospect_ids":["{{Good}}"],"event_types":["prospect_changed_role"],"timestamp_to":"{{date}}"}""")).ExpectAsync(422);
        Assert.Equal("""["body","timestamp_to"]""", error.GetProperty("detail")[0].GetProperty("loc").GetRawText());
    }

    [Theory]
    [InlineData("de%00x")] [InlineData("de%1Bx")] [InlineData("de%FFx")] [InlineData("de%ED%A0%80x")] [InlineData("%C0%AF")]
    public async Task APathIdThatIsNoTextOrHoldsAControlCharacterIsRefused(string deliveryId)
    {
        using var client = _server.Client(_server.AdminKey);
        var partner = (string)(await _server.SqlAsync("SELECT partner_id FROM partners LIMIT 1"))!;

        var answer = await client.GetAsync($"/v1/webhooks/{partner}/deliveries/{deliveryId}");

        Assert.InRange((int)answer.StatusCode, 400, 499);
        var keys = await client.PostAsync($"/v1/admin/partners/pa_{deliveryId}/keys", null);
        Assert.InRange((int)keys.StatusCode, 400, 499);
    }

    [Fact]
    public async Task ABodyThatStallsMidwayGets408()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(_server.Address.Host, _server.Address.Port);
        var stream = tcp.GetStream();
        var head = $"POST {EnrollmentsPath} HTTP/1.1\r\nHost: {_server.Address.Authority}\r\napi_key: {_server.AdminKey}\r\n" +
                   "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"enrollment_key\":\"ab";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));

        // Kestrel gives a body 5 s before it enforces the minimum data rate (240 bytes/s); then the read times out.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var answer = new StringBuilder();
        var buffer = new byte[4096];
        while (!answer.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0) break;
            answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
        Assert.StartsWith("HTTP/1.1 408", answer.ToString());
    }

    private static ByteArrayContent Raw(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }
}

public sealed class SqliteHostileBytesTests() : HostileBytesContract(Backend.Sqlite);

public sealed class PostgresHostileBytesTests() : HostileBytesContract(Backend.Postgres);
