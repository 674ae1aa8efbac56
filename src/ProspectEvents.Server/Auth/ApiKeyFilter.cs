using System.Globalization;
using ProspectEvents.Server.Http;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Auth;

/// <summary>
/// Authenticates the <c>api_key</c> header (any case), checks the key's scope, and applies the per-key rate limit,
/// before the handler runs. Keys are looked up on every request so a revoked key stops working at once.
/// </summary>
public sealed class ApiKeyFilter(KeyScope requiredScope) : IEndpointFilter
{
    public const string Header = "api_key";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var failures = http.RequestServices.GetRequiredService<FailedAuthLimiter>();
        var address = http.Connection.RemoteIpAddress?.ToString() ?? "";
        // Checked before the key is looked up: a guessing loop must not learn which guess was right.
        if (failures.Exhausted(address) is { } wait) return ApiError.TooManyRequests(wait);

        var secret = http.Request.Headers[Header].ToString();
        if (secret.Length == 0) return Refused(failures, address, $"Missing API key: send it in the '{Header}' header.");

        var key = ApiKey.HasValidShape(secret)
            ? await http.RequestServices.GetRequiredService<Store>().FindKeyAsync(secret, http.RequestAborted)
            : null;
        if (key is null) return Refused(failures, address, "Unknown or revoked API key.");

        var decision = await http.RequestServices.GetRequiredService<KeyRateLimiter>().AcquireAsync(key.KeyId, http.RequestAborted);
        var headers = http.Response.Headers;
        headers["X-RateLimit-Limit"] = decision.Limit.ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Remaining"] = decision.Remaining.ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Reset"] = decision.ResetSeconds.ToString(CultureInfo.InvariantCulture);
        if (!decision.Granted) return ApiError.TooManyRequests(Math.Max(1, decision.ResetSeconds));

        if (requiredScope == KeyScope.Admin && key.Scope != KeyScope.Admin) return ApiError.Forbidden("This endpoint needs an admin key.");

        new Caller(key.PartnerId, key.KeyId, key.Scope).AttachTo(http);
        return await next(context);
    }

    private static ApiError Refused(FailedAuthLimiter failures, string address, string detail)
    {
        failures.Record(address);
        return ApiError.Unauthorized(detail);
    }
}

public static class ApiKeyFilterExtensions
{
    /// <summary>Every endpoint of the group needs a key of at least <paramref name="scope"/>.</summary>
    public static TBuilder RequireApiKey<TBuilder>(this TBuilder builder, KeyScope scope = KeyScope.Partner)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(new ApiKeyFilter(scope));
}
