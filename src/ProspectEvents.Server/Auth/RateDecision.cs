namespace ProspectEvents.Server.Auth;

/// <summary>Whether a request may go ahead, with what its <c>X-RateLimit-*</c> headers say.</summary>
/// <param name="ResetSeconds">Seconds until the window frees permits (when the oldest that count in it leave it).</param>
public readonly record struct RateDecision(bool Granted, int Limit, int Remaining, int ResetSeconds);
