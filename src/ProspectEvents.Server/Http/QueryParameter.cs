using System.Globalization;

namespace ProspectEvents.Server.Http;

/// <summary>Query-string values, validated with FastAPI-style problems located at <c>["query", name]</c>.</summary>
public static class QueryParameter
{
    /// <summary>An optional integer in a range; null when absent or invalid (the problem is added).</summary>
    public static long? Integer(HttpContext http, string name, long min, long max, List<ValidationError> problems)
    {
        if (!http.Request.Query.TryGetValue(name, out var values)) return null;
        var text = values.ToString();
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            problems.Add(new(["query", name], "Input should be a valid integer, unable to parse string as an integer", "int_parsing", text));
        else if (value < min)
            problems.Add(new(["query", name], $"Input should be greater than or equal to {min}", "greater_than_equal", text));
        else if (value > max)
            problems.Add(new(["query", name], $"Input should be less than or equal to {max}", "less_than_equal", text));
        else
            return value;
        return null;
    }
}
