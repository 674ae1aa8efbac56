namespace ProspectEvents.Server.Auth;

/// <summary>The authenticated partner a request speaks for, put on the request by <see cref="ApiKeyFilter"/>.</summary>
public sealed record Caller(string PartnerId, string KeyId, KeyScope Scope)
{
    private const string ItemKey = "caller";

    internal void AttachTo(HttpContext http) => http.Items[ItemKey] = this;

    // Parameter binding runs before endpoint filters, so handlers ask for the caller rather than bind it.
    internal static Caller Of(HttpContext http) =>
        http.Items[ItemKey] as Caller ?? throw new InvalidOperationException("Endpoint is missing RequireApiKey().");
}

public static class CallerExtensions
{
    public static Caller Caller(this HttpContext http) => Auth.Caller.Of(http);
}
