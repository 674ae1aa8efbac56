using System.Text.Json;
using ProspectEvents.Server.Http;

namespace ProspectEvents.Tests.Http;

/// <summary>The check of a parsed body for strings that are no text, which reads the body's whole text at once.</summary>
public sealed class JsonTextTests
{
    private static ValidationError? Check(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        return JsonText.FindNotText(document.RootElement);
    }

    public static TheoryData<string, byte[]> Text => new()
    {
        { "plain ASCII", [.. """{"a":"b","n":[1,2.5,true,null]}"""u8] },
        { "letters beyond ASCII", [.. """{"name":"Zoë Ångström 東京 🚀"}"""u8] },
        { "an escaped backslash before 'ud800'", [.. """{"a":"x\\ud800"}"""u8] },
        { "an escaped quote and backslash at a string's end", [.. """{"a":"q\"\\","b":"\u00e9"}"""u8] },
        { "an escaped surrogate pair in a property name", [.. """{"\ud83d\ude80":1}"""u8] },
    };

    [Theory]
    [MemberData(nameof(Text))]
    public void TextIsText(string kind, byte[] json)
    {
        Assert.True(Check(json) is null, kind);
    }

    public static TheoryData<string, byte[], string> NotText => new()
    {
        { "a lone surrogate deep in a list", [.. """{"a":[{"b":["ok","\udc00"]}]}"""u8], """["body","a",0,"b",1]""" },
        { "a lone surrogate after an escaped backslash pair", [.. """{"a":"\\\ud800"}"""u8], """["body","a"]""" },
        { "invalid UTF-8 in a second string", [.. """{"a":"ok","b":"x"""u8, 0xFF, .. "\"}"u8], """["body","b"]""" },
        { "a lone surrogate in a property name", [.. """{"ok":1,"x\ud800":2}"""u8], """["body"]""" },
    };

    [Theory]
    [MemberData(nameof(NotText))]
    public void TextThatIsNotTextIsFoundWhereItStands(string kind, byte[] json, string loc)
    {
        var problem = Check(json);
        Assert.True(problem is not null, kind);
        Assert.Equal(loc, JsonSerializer.Serialize(problem.Loc));
    }

    // A line as a tool that escapes every non-ASCII letter writes it: escapes spread far apart over plain text.
    private static readonly string EscapedLine =
        """{"full_name":"Ren\u00e9e M\u00fcller","company_name":"Soci\u00e9t\u00e9 G\u00e9n\u00e9rale""" + new string(' ', 300) + "\"}";

    public static TheoryData<string, string, bool, int?> Escapes => new()
    {
        { "no backslash", """{"a":"b"}""", true, null },
        { "ordinary escapes far apart", EscapedLine, true, null },
        { "a lone surrogate after escapes far apart", EscapedLine[..^2] + "\\ud800\"}", false, EscapedLine.Length - 2 },
        { "a NUL when NUL is rejected", """{"a":"x\u0000"}""", true, 7 },
        { "a NUL when NUL is allowed", """{"a":"x\u0000"}""", false, null },
        { "a high surrogate without its low half", """{"a":"\ud83d\u0041"}""", false, 6 },
        { "a surrogate pair", """{"a":"\ud83d\ude80"}""", true, null },
        { "an escaped backslash before 'ud800'", """{"a":"\\ud800"}""", true, null },
        { "a backslash as the last byte", "\"a\\", true, null },
        { "an escape cut short at the end", "\"a\\u00", true, null },
    };

    [Theory]
    [MemberData(nameof(Escapes))]
    public void FindBadEscapeGivesTheOffsetOfTheFirstEscapeThatIsNoCharacter(string kind, string text, bool rejectNul, int? at)
    {
        var found = JsonText.FindBadEscape(System.Text.Encoding.UTF8.GetBytes(text), rejectNul);
        Assert.True(at == found?.At, $"{kind}: expected {at?.ToString() ?? "none"}, found {found?.At.ToString() ?? "none"}");
    }
}
