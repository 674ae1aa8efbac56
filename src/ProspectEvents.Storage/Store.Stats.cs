using Dapper;

namespace ProspectEvents.Storage;

public abstract partial class Store
{
    public sealed record Counts(long Partners, long Enrollments, long MonitoredProspects);

    /// <summary>Operator counts; a prospect in two enrollments counts twice, an expired one not at all.</summary>
    public Task<Counts> CountsAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        ReadAsync(c => c.QuerySingleAsync<Counts>(new CommandDefinition(
            """
            SELECT (SELECT COUNT(*) FROM partners) AS Partners,
                   (SELECT COUNT(*) FROM enrollments) AS Enrollments,
                   (SELECT COUNT(*) FROM enrollment_prospects WHERE expires_at IS NULL OR expires_at > @now) AS MonitoredProspects
            """, new { now = ToUnixMs(now) }, cancellationToken: cancellationToken)), cancellationToken);
}
