namespace ProspectEvents.Detection;

/// <summary>The term tables of <c>Detection/Terms/</c>, embedded in the assembly: one entry a line, <c>#</c> starts a comment line.</summary>
internal static class Terms
{
    public static IEnumerable<string> Lines(string file)
    {
        using var stream = typeof(Terms).Assembly.GetManifestResourceStream("Terms/" + file)
            ?? throw new InvalidOperationException($"The term table {file} is not embedded.");
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && line[0] != '#') lines.Add(line.TrimEnd());
        }
        return lines;
    }

    /// <summary>The lines of a table of two columns split by a tab.</summary>
    public static IEnumerable<(string Key, string Value)> Pairs(string file) =>
        Lines(file).Select(line => line.Split('\t') is [var key, var value]
            ? (key, value)
            : throw new InvalidOperationException($"The line '{line}' of {file} is not two columns split by a tab."));
}
