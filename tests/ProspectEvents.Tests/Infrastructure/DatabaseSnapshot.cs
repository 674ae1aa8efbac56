using System.Globalization;
using System.Text;
using ProspectEvents.Storage;

namespace ProspectEvents.Tests.Infrastructure;

/// <summary>Every row of every table as text, to prove a rejected request changed nothing.</summary>
public static class DatabaseSnapshot
{
    private static readonly string[] Tables = ["partners", "api_keys", "enrollments", "enrollment_prospects"];

    // Written by the background fan-out indexer at any time, not by requests.
    private const string IndexerColumn = "unindexed";

    public static Task<string> TakeAsync(Store store) => TakeAsync(store, Tables);

    /// <summary>The rows of the given tables (each ordered by its first two columns), for tests that watch more of the schema.</summary>
    public static async Task<string> TakeAsync(Store store, IReadOnlyList<string> tables)
    {
        var text = new StringBuilder();
        await using var connection = await store.OpenConnectionAsync(CancellationToken.None);
        foreach (var table in tables)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT * FROM {table} ORDER BY 1, 2";
            await using var reader = await command.ExecuteReaderAsync();
            text.Append(table).Append(':').AppendLine();
            while (await reader.ReadAsync())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    if (reader.GetName(i) == IndexerColumn) continue;
                    var value = reader.GetValue(i);
                    text.Append(value is byte[] bytes ? Convert.ToHexString(bytes) : Convert.ToString(value, CultureInfo.InvariantCulture)).Append('|');
                }
                text.AppendLine();
            }
        }
        return text.ToString();
    }
}
