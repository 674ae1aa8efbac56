using ProspectEvents.Detection;
using ProspectEvents.Server.Ingest;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Ingest;

/// <summary>
/// Whether two batches share a prospect: a judgment made while preparing a batch is reused only when no batch
/// written since shares one with it.
/// </summary>
public sealed class IngestBatchTests
{
    private static IngestBatch Of(params int[] prospects) =>
        IngestBatch.Of([.. prospects.Select(n => new Observation(Feed.Id(n), DateTimeOffset.UnixEpoch.AddDays(n), null, null, null, "Acme", null, null, null))]);

    [Theory]
    [InlineData(new[] { 1, 2, 3 }, new[] { 4, 5 })]
    [InlineData(new[] { 9, 1, 5 }, new[] { 2, 8, 4, 6 })]
    [InlineData(new int[0], new[] { 1 })]
    [InlineData(new[] { 1, 3, 5, 7, 9, 11 }, new[] { 2, 4, 6, 8, 10, 12 })]
    public void BatchesWithoutACommonProspectShareNone(int[] first, int[] second)
    {
        Assert.False(Of(first).SharesProspectsWith(Of(second).Keys));
        Assert.False(Of(second).SharesProspectsWith(Of(first).Keys));
    }

    [Theory]
    [InlineData(new[] { 1, 2, 3 }, new[] { 3 })]
    [InlineData(new[] { 9, 1, 5 }, new[] { 2, 8, 4, 6, 1 })]
    [InlineData(new[] { 7 }, new[] { 7, 7 })]
    [InlineData(new[] { 1, 3, 5, 7, 9, 12 }, new[] { 2, 4, 6, 8, 10, 12 })]
    public void BatchesWithACommonProspectShareIt(int[] first, int[] second)
    {
        Assert.True(Of(first).SharesProspectsWith(Of(second).Keys));
        Assert.True(Of(second).SharesProspectsWith(Of(first).Keys));
    }
}
