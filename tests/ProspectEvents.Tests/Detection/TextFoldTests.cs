using System.Text;
using ProspectEvents.Detection;

namespace ProspectEvents.Tests.Detection;

/// <summary>What folding takes out of profile text before its words are read, and that folding twice changes nothing.</summary>
public sealed class TextFoldTests
{
    [Theory]
    [InlineData("Sales &amp; Marketing", "Sales & Marketing")]
    [InlineData("Sales &amp;amp; Marketing", "Sales & Marketing")]
    [InlineData("Soci&eacute;t&#233; G&#xE9;n&#XE9;rale", "Socie\u0301te\u0301 Ge\u0301ne\u0301rale")]
    [InlineData("O&#39;Brien &quot;Bob&quot;", "O'Brien \"Bob\"")]
    [InlineData("AT&T", "AT&T")]
    [InlineData("R&D; Ops", "R&D; Ops")]
    public void HtmlEntitiesAreDecodedOnceOrTwice(string text, string folded) => Assert.Equal(folded, TextFold.Fold(text));

    [Theory]
    [InlineData("\uFF24ata", "Data")] // full-width
    [InlineData("\uFB01nance", "finance")] // ligature
    [InlineData("\U0001D412\U0001D41A\U0001D425\U0001D41E\U0001D42C", "Sales")] // mathematical bold, "fancy text" headlines
    [InlineData("Level\u00B2", "Level2")]
    [InlineData("\u2167", "VIII")]
    [InlineData("Ca\u0301rdenas", "Ca\u0301rdenas")]
    [InlineData("C\u00E1rdenas", "Ca\u0301rdenas")]
    [InlineData("Vice\u00A0President\u2003of\u3000Sales", "Vice President of Sales")]
    public void CompatibilityFormsDecompose(string text, string folded) => Assert.Equal(folded, TextFold.Fold(text));

    [Theory]
    [InlineData("Eng\u200Bineer")] [InlineData("Engi\u00ADneer")] [InlineData("\uFEFFEngineer")] [InlineData("Engin\u200Deer\u200E")]
    [InlineData("Eng\u2060ineer\uFE0F")] [InlineData("\u3164Engineer")]
    public void InvisibleCharactersVanishWithoutSplittingAWord(string text) => Assert.Equal("Engineer", TextFold.Fold(text));

    [Theory]
    [InlineData(0xD800, 0)] [InlineData(0xDFFF, 0)] [InlineData(0xDC00, 0xD800)] // code units: a test name can't hold a lone surrogate
    public void ALoneSurrogateSeparatesWordsInsteadOfFailing(int first, int second)
    {
        var text = "Data" + (char)first + (second == 0 ? "" : (char)second) + "Scientist";
        Assert.Equal("data scientist", TitleNormalizer.Normalize(text));
        Assert.Equal("data scientist", CompanyNormalizer.Name(text));
    }

    [Theory]
    [InlineData("Acme Corp")] [InlineData("VP, Sales & Marketing")] [InlineData("https://acme.com/about")]
    public void PlainAsciiNeedsNoFolding(string text) => Assert.False(TextFold.IsNeeded(text));

    [Theory]
    [InlineData("Soci\u00E9t\u00E9")] [InlineData("Sales &amp; Marketing")] [InlineData("Eng\u200Bineer")]
    public void AnythingElseIsFolded(string text) => Assert.True(TextFold.IsNeeded(text));

    private static readonly string[] Pieces =
    [
        "Acme", " ", "Sales", "\u00E9", "e\u0301", "\u00DF", "\uFF24", "\uFB01", "\U0001D412", "\u200B", "\u00AD", "\uFEFF", "\u00A0", "\u2013", "&amp;",
        "&amp;amp;", "&#233;", "&", ";", "\u3164", "\uD800", "\U0001F680\uFE0F", "\u30AB\u3099", "\u0915\u093C", "\u2167", "|", "@", "'", "\u2019",
    ];

    private static string RandomText(Random random)
    {
        var text = new StringBuilder();
        for (var n = random.Next(1, 12); n > 0; n--) text.Append(Pieces[random.Next(Pieces.Length)]);
        return text.ToString();
    }

    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 200)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void FoldingTwiceIsFoldingOnce(int seed)
    {
        var random = new Random(seed);
        for (var i = 0; i < 50; i++)
        {
            var once = TextFold.Fold(RandomText(random));
            Assert.Equal(once, TextFold.Fold(once));
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void CompanyNamesAndDomainsNormalizedTwiceAreNormalizedOnce(int seed)
    {
        var random = new Random(seed);
        for (var i = 0; i < 50; i++)
        {
            var text = RandomText(random) + (random.Next(2) == 0 ? " GmbH & Co. KG" : "");
            var name = CompanyNormalizer.Name(text);
            Assert.Equal(name, CompanyNormalizer.Name(name));
            var domain = CompanyNormalizer.Domain("https://www." + text + ".com/");
            Assert.Equal(domain, CompanyNormalizer.Domain(domain));
        }
    }
}
