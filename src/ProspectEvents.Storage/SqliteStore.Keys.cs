using System.Text;
using Microsoft.Data.Sqlite;

namespace ProspectEvents.Storage;

public sealed partial class SqliteStore
{
    // Every API request looks its key up: a statement kept on the reader, bound by position, costs a fraction of a
    // command with a named parameter and a data reader. Still read from the database each time, so a key revoked by
    // another process stops working at once.
    protected override Task<(string KeyId, string PartnerId, string Scope, byte[] KeyHash)?> ReadKeyRowAsync(byte[] hash, CancellationToken cancellationToken) =>
        ReadAsync(connection =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            var find = Statement((SqliteConnection)connection, FindKeySql);
            find.Bind(1, hash);
            try
            {
                return Task.FromResult(find.Step()
                    ? (Encoding.UTF8.GetString(find.Bytes(0)), Encoding.UTF8.GetString(find.Bytes(1)), Encoding.UTF8.GetString(find.Bytes(2)), find.Bytes(3).ToArray())
                    : default((string, string, string, byte[])?));
            }
            finally
            {
                find.Reset();
            }
        }, cancellationToken);
}
