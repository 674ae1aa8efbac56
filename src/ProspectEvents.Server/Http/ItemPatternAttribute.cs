namespace ProspectEvents.Server.Http;

/// <summary>Documents the pattern every item of a string list must match (OpenAPI <c>items.pattern</c>).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class ItemPatternAttribute(string pattern) : Attribute
{
    public string Pattern { get; } = pattern;
}
