namespace ProspectEvents.Server.Hosting;

/// <summary>The <c>Processes</c> section: how this process keeps its row in the process registry.</summary>
public sealed class ProcessOptions
{
    public const string Section = "Processes";

    /// <summary>How often the process beats; it counts as gone after three intervals without one.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);
}
