namespace ProspectEvents.Tests.Telemetry;

/// <summary>
/// The meter and activity source are the process's: a server's exporters see every server's ingests and deliveries.
/// Tests that count them run alone, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "Telemetry";
}
