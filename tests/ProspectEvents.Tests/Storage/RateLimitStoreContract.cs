using ProspectEvents.Storage;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Storage;

/// <summary>Taking a key's permits from the store: three stores on one database (three processes), racing, once per backend.</summary>
public abstract class RateLimitStoreContract(Backend backend) : IAsyncLifetime
{
    private const int Segments = 10;
    private Store[] _stores = [];

    public async Task InitializeAsync()
    {
        var storage = await TestStorage.CreateAsync(backend);
        _stores = [.. Enumerable.Range(0, 3).Select(_ => Store.Create(storage))];
        await _stores[0].MigrateAsync(TimeProvider.System, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        foreach (var store in _stores) await store.DisposeAsync();
    }

    [Fact]
    public async Task Racing_takers_on_three_stores_never_get_more_than_the_limit_together()
    {
        var takes = await Task.WhenAll(Enumerable.Range(0, 90).Select(i =>
            _stores[i % 3].TakePermitsAsync("key_racing", 1_000, Segments, limit: 60, chunk: 2, unspent: null, CancellationToken.None)));

        Assert.Equal(60, takes.Sum(t => t.Granted));
        Assert.All(takes, t => Assert.InRange(t.WindowTaken, 1, 60));
        Assert.Equal(30, takes.Count(t => t.Granted == 2)); // whole chunks while there is room, then nothing
    }

    [Fact]
    public async Task The_last_take_of_a_window_gets_what_is_left_of_it()
    {
        Assert.Equal(new PermitTake(8, 8, 5), await TakeAsync("key_rest", segment: 5, chunk: 8, limit: 10));

        Assert.Equal(new PermitTake(2, 10, 5), await TakeAsync("key_rest", segment: 6, chunk: 8, limit: 10));
        Assert.Equal(new PermitTake(0, 10, 5), await TakeAsync("key_rest", segment: 6, chunk: 8, limit: 10));
    }

    [Fact]
    public async Task Permits_count_until_their_segment_leaves_the_window()
    {
        await TakeAsync("key_sliding", segment: 100, chunk: 6, limit: 10);
        await TakeAsync("key_sliding", segment: 104, chunk: 4, limit: 10);

        Assert.Equal(0, (await TakeAsync("key_sliding", segment: 109, chunk: 5, limit: 10)).Granted); // 100 is the oldest of the window
        Assert.Equal(new PermitTake(5, 9, 104), await TakeAsync("key_sliding", segment: 110, chunk: 5, limit: 10)); // it left: its 6 are back
    }

    [Fact]
    public async Task A_slot_used_a_window_ago_counts_from_zero()
    {
        await TakeAsync("key_slot", segment: 3, chunk: 10, limit: 10);

        Assert.Equal(new PermitTake(4, 4, 13), await TakeAsync("key_slot", segment: 13, chunk: 4, limit: 10));
    }

    [Fact]
    public async Task Permits_given_back_free_room_in_the_window()
    {
        await TakeAsync("key_back", segment: 20, chunk: 10, limit: 10);

        var take = await _stores[1].TakePermitsAsync("key_back", 21, Segments, 10, 5, new UnspentPermits(20, 7), CancellationToken.None);

        Assert.Equal(new PermitTake(5, 8, 20), take);
    }

    [Fact]
    public async Task Each_key_has_its_own_permits()
    {
        await TakeAsync("key_one", segment: 7, chunk: 10, limit: 10);

        Assert.Equal(10, (await TakeAsync("key_two", segment: 7, chunk: 10, limit: 10)).Granted);
    }

    private Task<PermitTake> TakeAsync(string key, long segment, int chunk, int limit) =>
        _stores[(int)(segment % 3)].TakePermitsAsync(key, segment, Segments, limit, chunk, null, CancellationToken.None);
}

public sealed class SqliteRateLimitStoreTests() : RateLimitStoreContract(Backend.Sqlite);

public sealed class PostgresRateLimitStoreTests() : RateLimitStoreContract(Backend.Postgres);
