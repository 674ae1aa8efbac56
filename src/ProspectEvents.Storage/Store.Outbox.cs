namespace ProspectEvents.Storage;

public abstract partial class Store
{
    /// <summary>Pending deliveries, and when the oldest of them was created (null when none is pending).</summary>
    public sealed record OutboxBacklog(long Pending, DateTimeOffset? OldestCreatedAt);

    /// <summary>
    /// The outbox at a glance, for the telemetry gauges: both answers come from the pending-only index (the oldest pending
    /// row is the one with the lowest key, since keys grow with time), so the cost is the pending rows, not the table.
    /// </summary>
    public Task<OutboxBacklog> OutboxBacklogAsync(CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = Command(connection, null, """
                SELECT COUNT(*), (SELECT created_at FROM deliveries WHERE delivery_pk =
                    (SELECT MIN(delivery_pk) FROM deliveries WHERE status = 'pending'))
                FROM deliveries WHERE status = 'pending'
                """);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            return new OutboxBacklog(reader.GetInt64(0), Time(reader, 1));
        }, cancellationToken);
}
