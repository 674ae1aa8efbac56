using System.Collections.Concurrent;

namespace ProspectEvents.Server.Webhooks;

/// <summary>
/// How a dispatcher's send slots are split among the webhooks with due deliveries: each may have its share
/// of all slots in flight, counting what it has in flight already, so one backlog or slow receiver cannot hold every
/// slot while others wait. The one served first moves round each pass, so leftovers rotate too.
/// </summary>
public sealed class FairShare(int slots)
{
    private readonly ConcurrentDictionary<string, int> _inFlight = new(StringComparer.Ordinal);
    private int _total;
    private uint _passes;

    /// <summary>Deliveries taken and not yet finished (claimed, being sent, or waiting for their outcome to be queued).</summary>
    public int InFlight => Volatile.Read(ref _total);

    public int Free => slots - InFlight;

    /// <summary>
    /// The claims to make in one pass: each of <paramref name="keys"/> with how many it may take, worked out as the pass
    /// gets to it (so what earlier ones took counts), at most <paramref name="maxClaim"/>. Skips those with no room.
    /// </summary>
    public IEnumerable<(string Key, int Room)> Plan(IReadOnlyList<string> keys, int maxClaim)
    {
        if (keys.Count == 0) yield break;
        var share = (slots + keys.Count - 1) / keys.Count;
        var first = (int)(_passes++ % (uint)keys.Count);
        for (var i = 0; i < keys.Count; i++)
        {
            var key = keys[(first + i) % keys.Count];
            var room = Math.Min(Math.Min(share - InFlightOf(key), Free), maxClaim);
            if (room > 0) yield return (key, room);
        }
    }

    public void Started(string key)
    {
        _inFlight.AddOrUpdate(key, 1, (_, n) => n + 1);
        Interlocked.Increment(ref _total);
    }

    public void Finished(string key)
    {
        _inFlight.AddOrUpdate(key, 0, (_, n) => n - 1);
        Interlocked.Decrement(ref _total);
    }

    private int InFlightOf(string key) => _inFlight.TryGetValue(key, out var n) ? n : 0;
}
