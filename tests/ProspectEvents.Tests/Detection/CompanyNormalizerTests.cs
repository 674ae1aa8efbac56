using ProspectEvents.Detection;

namespace ProspectEvents.Tests.Detection;

/// <summary>Employer names and domains: the examples of docs/detection.md, and each legal form of the table.</summary>
public sealed class CompanyNormalizerTests
{
    [Theory]
    [InlineData("Societe Generale", "Société Générale")]
    [InlineData("Société Générale", "Socie\u0301te\u0301 Ge\u0301ne\u0301rale")]
    [InlineData("The Walt Disney Company", "Walt Disney Company")]
    [InlineData("The Walt Disney Company", "Walt Disney Co.")]
    [InlineData("Johnson & Johnson", "Johnson and Johnson")]
    [InlineData("Johnson & Johnson", "Johnson + Johnson")]
    [InlineData("Procter & Gamble", "Procter &amp; Gamble Co.")]
    [InlineData("Acme GmbH & Co. KG", "ACME")]
    [InlineData("Acme S.p.A.", "Acme SpA")]
    [InlineData("Acme A/S", "Acme")]
    [InlineData("Acme (Pty) Ltd", "Acme")]
    [InlineData("Grupo Bimbo, S.A.B. de C.V.", "Grupo Bimbo")]
    [InlineData("Straße AG", "Strasse")]
    [InlineData("Øresund Bridge", "Oresund Bridge")]
    [InlineData("McDonald's", "McDonalds")]
    [InlineData("I.B.M.", "IBM")]
    [InlineData("\uFF21\uFF43\uFF4D\uFF45", "Acme")]
    [InlineData("Acme\u200B Corp", "Acme")]
    [InlineData("Acme\u00A0Inc.", "acme")]
    [InlineData("J.P. Morgan", "J. P. Morgan")]
    [InlineData("H & M", "H&M")]
    [InlineData("Amazon.com, Inc.", "Amazon")]
    [InlineData("Salesforce.com", "Salesforce")]
    public void RestatedNamesAreEqual(string before, string after) => Assert.Equal(CompanyNormalizer.Name(before), CompanyNormalizer.Name(after));

    [Theory]
    [InlineData("Harbor Freight Logistics", "Harbor Freight Capital")]
    [InlineData("General Motors", "General Mills")]
    [InlineData("Deutsche Bank", "Deutsche Börse")]
    [InlineData("Acme", "Acme Labs")]
    [InlineData("Acme", "Acme Holdings")]
    [InlineData("Acme Group", "Acme")]
    [InlineData("Bank of America", "America Bank")]
    [InlineData("Société Générale", "Société Générale Securities")]
    [InlineData("Meta", "Metal")]
    [InlineData("Acme Corporation of America", "Acme")]
    [InlineData("Booking.com", "Booking Holdings")]
    [InlineData("J. P. Morgan", "J. P. Morgan Chase")]
    public void AnotherEmployerIsAnotherName(string before, string after) => Assert.NotEqual(CompanyNormalizer.Name(before), CompanyNormalizer.Name(after));

    [Theory]
    [InlineData("SAS")] [InlineData("Inc.")] [InlineData("The Company")]
    public void ANameThatIsOnlyALegalFormKeepsIt(string name) => Assert.NotNull(CompanyNormalizer.Name(name));

    public static TheoryData<string> LegalForms()
    {
        using var stream = typeof(CompanyNormalizer).Assembly.GetManifestResourceStream("Terms/legal-forms.txt")!;
        using var reader = new StreamReader(stream);
        return [.. reader.ReadToEnd().Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0 && line[0] != '#')];
    }

    [Theory]
    [MemberData(nameof(LegalForms))]
    public void EachLegalFormIsDroppedFromTheEndOfAName(string form)
    {
        Assert.Equal("acme widgets", CompanyNormalizer.Name($"Acme Widgets {form}"));
        Assert.Equal("acme widgets", CompanyNormalizer.Name($"ACME WIDGETS, {form.ToUpperInvariant()}"));
        Assert.NotEqual("acme widgets", CompanyNormalizer.Name($"Acme {form} Widgets")); // only at the end
    }

    [Theory]
    [InlineData("acme.com", "https://www.ACME.com/about?x=1")]
    [InlineData("acme.com", "info@acme.com")]
    [InlineData("acme.com", "\uFF41\uFF43\uFF4D\uFF45.com")]
    [InlineData("acme.com", " www.acme.com. ")]
    [InlineData("bücher.de", "xn--bcher-kva.de")]
    [InlineData("bücher.de", "BÜCHER.DE")]
    public void RestatedDomainsAreEqual(string before, string after) => Assert.Equal(CompanyNormalizer.Domain(before), CompanyNormalizer.Domain(after));

    [Theory]
    [InlineData("bücher.de", "bucher.de")]
    [InlineData("acme.com", "acme.co")]
    public void DiacriticsAndEndingsOfDomainsCount(string before, string after) => Assert.NotEqual(CompanyNormalizer.Domain(before), CompanyNormalizer.Domain(after));
}
