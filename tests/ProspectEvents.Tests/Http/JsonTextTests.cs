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
}
