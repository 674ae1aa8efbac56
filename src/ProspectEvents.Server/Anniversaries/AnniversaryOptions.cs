namespace ProspectEvents.Server.Anniversaries;

/// <summary>The <c>Anniversaries</c> section.</summary>
public sealed class AnniversaryOptions
{
    public const string Section = "Anniversaries";

    /// <summary>Time of day (UTC) from which a day's anniversaries are due.</summary>
    public TimeSpan RunAtUtc { get; set; } = TimeSpan.FromMinutes(5);
}
