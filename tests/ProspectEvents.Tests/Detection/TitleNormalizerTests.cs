using ProspectEvents.Detection;

namespace ProspectEvents.Tests.Detection;

/// <summary>Titles compared as a function and a level: the examples of docs/detection.md, and each term of the tables.</summary>
public sealed class TitleNormalizerTests
{
    [Theory]
    [InlineData("Vice President of Sales", "Vice President, Sales")]
    [InlineData("Sales VP", "VP Sales")]
    [InlineData("VP of Sales", "Vice President - Sales")]
    [InlineData("Treasury Director", "Director, Treasury")]
    [InlineData("Director of Treasury", "Treasury Director")]
    [InlineData("Senior Software Engineer", "Software Engineer, Senior")]
    [InlineData("Sr. Software Eng.", "Senior Software Engineer")]
    [InlineData("Sales & Marketing Manager", "Sales &amp; Marketing Manager")]
    [InlineData("Sales and Marketing Manager", "Sales + Marketing Manager")]
    [InlineData("Data Scientist", "\uFF24ata Scientist")]
    [InlineData("Directeur Général", "Directeur General")]
    [InlineData("Co-Founder", "Cofounder")]
    [InlineData("Co-Founder", "Co\u2011founder")]
    [InlineData("Co Founder & CEO", "CEO and Cofounder")]
    [InlineData("Front-End Engineer", "Frontend Engineer")]
    [InlineData("Software Engineer", "Software Engineer @ Acme")]
    [InlineData("Software Engineer", "Software Engineer at Acme Corp")]
    [InlineData("Software Engineer", "Software Engineer | Hiring!")]
    [InlineData("CFO", "CFO | Board Member | Speaker")]
    [InlineData("Product Manager", "Product Manager (she/her)")]
    [InlineData("Product Manager", "\U0001F680 Product Manager \u2728")]
    [InlineData("Engineer II", "Engineer 2")]
    [InlineData("R&D Manager", "Research and Development Manager")]
    [InlineData("Chief Executive Officer", "C.E.O.")]
    [InlineData("Head of IT", "Information Technology Head")]
    [InlineData("Eng\u200Bineer", "Engineer")]
    [InlineData("VP Eng", "VP Engineering")]
    [InlineData("Admin Assistant", "Administrative Assistant")]
    [InlineData("Chief Technical Officer", "CTO")]
    [InlineData("BD Manager", "Business Development Manager")]
    [InlineData("V. P. Sales", "VP Sales")]
    public void RestatedTitlesAreEqual(string before, string after) => Assert.Equal(TitleNormalizer.Normalize(before), TitleNormalizer.Normalize(after));

    [Theory]
    [InlineData("Sales Manager", "Marketing Manager")]
    [InlineData("Backend Engineer", "Frontend Engineer")]
    [InlineData("Software Engineer", "Software Engineering Manager")]
    [InlineData("Engineer", "Senior Engineer")]
    [InlineData("Engineer II", "Engineer III")]
    [InlineData("Director", "Senior Director")]
    [InlineData("Director of Sales", "Vice President of Sales")]
    [InlineData("VP Sales", "SVP Sales")]
    [InlineData("Vice President", "President")]
    [InlineData("CEO", "COO")]
    [InlineData("Interim CEO", "CEO")]
    [InlineData("Assistant to the Vice President", "Assistant Vice President")]
    [InlineData("Founder", "Co-Founder")]
    [InlineData("Engineer (Backend)", "Engineer (Payments)")]
    [InlineData("C++ Developer", "C# Developer")]
    [InlineData("Software Engineer", "Software Developer")]
    public void AnotherFunctionOrLevelIsAnotherTitle(string before, string after) => Assert.NotEqual(TitleNormalizer.Normalize(before), TitleNormalizer.Normalize(after));

    [Theory]
    [InlineData("(she/her)")] [InlineData("&")] [InlineData("\U0001F680")] [InlineData("of the")]
    public void ATitleWithNoMeaningfulWordIsUnknown(string title) => Assert.Null(TitleNormalizer.Normalize(title));

    public static TheoryData<string> FillerWords() => [.. TitleNormalizer.Fillers];

    [Theory]
    [MemberData(nameof(FillerWords))]
    public void EachFillerWordIsDropped(string filler) =>
        Assert.Equal(TitleNormalizer.Normalize("Director Sales"), TitleNormalizer.Normalize($"Director {filler.ToUpperInvariant()} Sales"));

    public static TheoryData<string> PrefixWords() => [.. TitleNormalizer.Prefixes];

    [Theory]
    [MemberData(nameof(PrefixWords))]
    public void EachPrefixIsJoinedToItsWord(string prefix)
    {
        Assert.Equal(TitleNormalizer.Normalize($"{prefix}owner"), TitleNormalizer.Normalize($"{prefix}-Owner"));
        Assert.Equal(TitleNormalizer.Normalize($"{prefix}owner"), TitleNormalizer.Normalize($"{prefix} owner"));
        Assert.NotEqual(TitleNormalizer.Normalize("Owner"), TitleNormalizer.Normalize($"{prefix}-Owner"));
    }

    public static TheoryData<string, string> Expansions()
    {
        var data = new TheoryData<string, string>();
        foreach (var (words, meaning) in TitleNormalizer.Abbreviations) data.Add(words, meaning);
        return data;
    }

    /// <summary>The normal form is written to a buffer sized by the text: no term may expand beyond it, however short its spelling.</summary>
    [Theory]
    [MemberData(nameof(Expansions))]
    public void EveryExpansionFitsTheBufferOfItsShortestSpelling(string words, string meaning)
    {
        var shortest = words.Replace(" and ", "&", StringComparison.Ordinal);
        var repeated = string.Join(',', Enumerable.Repeat(shortest, 20));
        Assert.True(meaning.Length * 20 + 19 <= NormalForm.BufferLength(repeated.Length), $"'{words}' expands to more than the buffer holds");
    }
}
