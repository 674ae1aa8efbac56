using System.Security.Cryptography;
using System.Text;

namespace ProspectEvents.Detection;

/// <summary>
/// Deterministic event ids: 32 hex of a SHA-256 over the prospect, the event name and what identifies the
/// transition, so re-ingesting the same data yields the same ids and stores can ignore the repeats.
/// </summary>
public static class EventIds
{
    public static string For(string prospectId, string eventName, params string[] transition)
    {
        var text = string.Join('\u001f', [prospectId, eventName, .. transition]);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 16));
    }
}
