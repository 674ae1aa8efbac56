namespace ProspectEvents.Tests.ScaleOut;

/// <summary>The scale-out tests start three server processes each: one test at a time, so a 2-core machine keeps up.</summary>
[CollectionDefinition(Name)]
public sealed class ScaleOutCollection
{
    public const string Name = "Scale-out";
}
