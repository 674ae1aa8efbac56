using Dapper;

namespace ProspectEvents.Storage;

public abstract partial class Store
{
    public Task<bool> PartnerExistsAsync(string partnerId, CancellationToken cancellationToken) =>
        ReadAsync(c => c.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM partners WHERE partner_id = @partnerId)", new { partnerId }, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>Creates a partner and its first key, in one transaction.</summary>
    public Task<IssuedKey> CreatePartnerAsync(string name, KeyScope scope, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync((connection, transaction) => InsertPartnerAsync(connection, transaction, name, scope, now, cancellationToken), cancellationToken);

    /// <summary>
    /// Creates partner <paramref name="name"/> with an admin key if the database has no partner yet; null when it has.
    /// The count and the insert share one transaction under the migrators' lock, so processes starting at once on an
    /// empty database create one partner between them.
    /// </summary>
    public Task<IssuedKey?> CreateFirstPartnerAsync(string name, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await LockAsync(connection, transaction, MigrationLock, cancellationToken);
            var partners = await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT COUNT(*) FROM partners", transaction: transaction, cancellationToken: cancellationToken));
            return partners > 0 ? (IssuedKey?)null : await InsertPartnerAsync(connection, transaction, name, KeyScope.Admin, now, cancellationToken);
        }, cancellationToken);

    private async Task<IssuedKey> InsertPartnerAsync(
        System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction, string name, KeyScope scope, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var partnerId = Ids.NewPartnerId();
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO partners (partner_id, name, created_at) VALUES (@partnerId, @name, @now)",
            new { partnerId, name, now = ToUnixMs(now) }, transaction, cancellationToken: cancellationToken));
        await InsertLegacyWebhookAsync(connection, transaction, partnerId, now, cancellationToken);
        return await InsertKeyAsync(connection, transaction, partnerId, scope, now, cancellationToken);
    }

    /// <summary>Issues a new key for an existing partner; null when there is no such partner.</summary>
    public Task<IssuedKey?> CreateKeyAsync(string partnerId, KeyScope scope, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var exists = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT EXISTS (SELECT 1 FROM partners WHERE partner_id = @partnerId)", new { partnerId }, transaction, cancellationToken: cancellationToken));
            return exists ? await InsertKeyAsync(connection, transaction, partnerId, scope, now, cancellationToken) : null;
        }, cancellationToken);

    private static async Task<IssuedKey> InsertKeyAsync(
        System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction,
        string partnerId, KeyScope scope, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var secret = ApiKey.Generate();
        var keyId = Ids.NewKeyId();
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO api_keys (key_id, partner_id, scope, key_hash, created_at) VALUES (@keyId, @partnerId, @scope, @hash, @now)",
            new { keyId, partnerId, scope = ApiKey.ScopeName(scope), hash = ApiKey.Hash(secret), now = ToUnixMs(now) },
            transaction, cancellationToken: cancellationToken));
        return new IssuedKey(keyId, partnerId, scope, secret);
    }

    /// <summary>Revokes a key at once; false when no live key has that id.</summary>
    public Task<bool> RevokeKeyAsync(string keyId, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) => await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE api_keys SET revoked_at = @now WHERE key_id = @keyId AND revoked_at IS NULL",
            new { keyId, now = ToUnixMs(now) }, transaction, cancellationToken: cancellationToken)) == 1, cancellationToken);

    /// <summary>
    /// The live key whose secret is <paramref name="secret"/>, or null. The database finds the row by hash;
    /// the final comparison is constant-time.
    /// </summary>
    public async Task<ApiKeyRecord?> FindKeyAsync(string secret, CancellationToken cancellationToken)
    {
        var hash = ApiKey.Hash(secret);
        if (await ReadKeyRowAsync(hash, cancellationToken) is not { } key || !ApiKey.Matches(hash, key.KeyHash) || !ApiKey.TryParseScope(key.Scope, out var scope))
            return null;
        return new ApiKeyRecord(key.KeyId, key.PartnerId, scope, key.KeyHash);
    }

    protected const string FindKeySql = "SELECT key_id, partner_id, scope, key_hash FROM api_keys WHERE key_hash = @hash AND revoked_at IS NULL";

    /// <summary>The unrevoked key row of <paramref name="hash"/>. Runs on every API request: a plain command, kept prepared where the provider can.</summary>
    protected virtual Task<(string KeyId, string PartnerId, string Scope, byte[] KeyHash)?> ReadKeyRowAsync(byte[] hash, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = Command(connection, null, FindKeySql);
            AddParameter(command, "@hash", hash);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken)
                ? (reader.GetString(0), reader.GetString(1), reader.GetString(2), (byte[])reader.GetValue(3))
                : default((string KeyId, string PartnerId, string Scope, byte[] KeyHash)?);
        }, cancellationToken);
}
