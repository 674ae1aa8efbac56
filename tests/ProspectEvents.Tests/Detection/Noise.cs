using System.Text;
using ProspectEvents.Detection;

namespace ProspectEvents.Tests.Detection;

/// <summary>
/// Random restatements of a text that keep its meaning under the rules of docs/detection.md: case, spacing, Unicode
/// forms, invisible characters, entities, and (for titles) decorations or (for names) articles and legal forms.
/// </summary>
internal static partial class Noise
{
    private static readonly string[] Spaces = [" ", "  ", "\u00A0", "\u2003", "\t", " \u200B "];
    private static readonly string[] TitleDecorations = [" | Hiring!", " @ Globex", " at Globex Corp", " (she/her)", " \U0001F680", " \u2728\uFE0F", " | Speaker | Author"];
    private static readonly string[] NameSuffixes = [", Inc.", " LLC", " GmbH & Co. KG", " S.A.", " Ltd", " Corp."];

    [System.Text.RegularExpressions.GeneratedRegex("&(?:amp;)*#?[A-Za-z0-9]+;")]
    private static partial System.Text.RegularExpressions.Regex Entity();

    public static string Title(Random random, string title)
    {
        var text = Characters(random, title);
        if (random.Next(3) == 0) text = (random.Next(2) == 0 ? "\U0001F4C8 " : "") + text + TitleDecorations[random.Next(TitleDecorations.Length)];
        return text;
    }

    public static string Name(Random random, string name)
    {
        var text = Characters(random, name);
        if (random.Next(4) == 0) text = "The " + text;
        if (random.Next(3) == 0) text += NameSuffixes[random.Next(NameSuffixes.Length)];
        return text;
    }

    /// <summary>Each character in another case, width or composition, separators widened, invisible characters slipped into words.</summary>
    private static string Characters(Random random, string text)
    {
        var noisy = new StringBuilder();
        if (random.Next(4) == 0) noisy.Append(Spaces[random.Next(Spaces.Length)]);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == ' ') { noisy.Append(Spaces[random.Next(Spaces.Length)]); continue; }
            if (c == '&')
            {
                // An entity already there (escaped once or twice) is kept to the letter, maybe escaped once more: its
                // name is no text to vary.
                var entity = Entity().Match(text, i) is { Success: true } found && found.Index == i ? found.Length : 1;
                noisy.Append(random.Next(2) == 0 ? "&amp;" : "&").Append(text, i + 1, entity - 1);
                i += entity - 1;
                continue;
            }
            var variant = random.Next(10) switch
            {
                0 when char.IsAsciiLetterOrDigit(c) => ((char)(c - '!' + '\uFF01')).ToString(), // full-width
                1 when c > 0x7F && char.IsLetter(c) => TextFold.Fold(c.ToString()), // decomposed
                2 => char.IsUpper(c) ? char.ToLowerInvariant(c).ToString() : char.ToUpperInvariant(c).ToString(),
                3 when char.IsLetter(c) => c + "\u200B",
                4 when c == 'e' => "&#101;",
                _ => c.ToString(),
            };
            noisy.Append(variant);
        }
        if (random.Next(4) == 0) noisy.Append(Spaces[random.Next(Spaces.Length)]);
        return noisy.ToString();
    }
}
