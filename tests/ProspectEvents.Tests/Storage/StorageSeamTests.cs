using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using ProspectEvents.Storage;

namespace ProspectEvents.Tests.Storage;

/// <summary>Storage offers transaction-scoped primitives; judging and detecting are ingest's (Server/Ingest).</summary>
public sealed class StorageSeamTests
{
    [Fact]
    public void TheStorageAssemblyUsesNoDetectionOrJudgmentType()
    {
        using var pe = new PEReader(File.OpenRead(typeof(Store).Assembly.Location));
        var metadata = pe.GetMetadataReader();
        var used = metadata.TypeReferences.Select(h => metadata.GetString(metadata.GetTypeReference(h).Name)).ToHashSet();
        var defined = metadata.TypeDefinitions.Select(h => metadata.GetString(metadata.GetTypeDefinition(h).Name)).ToHashSet();

        Assert.Empty(used.Intersect(["ChangeDetector", "Fingerprint", "TitleNormalizer", "CompanyNormalizer", "EmployerIdentity"]));
        Assert.Empty(defined.Intersect(["ProspectCache", "IngestBatch", "CachedProspect", "LogEntry", "LogTime", "IngestCounts"]));
    }
}
