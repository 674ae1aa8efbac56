using System.Reflection;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Metadata;

namespace ProspectEvents.Server.Http;

/// <summary>One FastAPI-style validation problem: where (<c>loc</c>), what (<c>msg</c>) and its kind (<c>type</c>).</summary>
public sealed record ValidationError(
    IReadOnlyList<object> Loc,
    string Msg,
    string Type,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] object? Input = null);

/// <summary>The 422 body clients of the anchor already parse: <c>{"detail": [...]}</c>.</summary>
public sealed record HttpValidationError(IReadOnlyList<ValidationError> Detail);

/// <summary>Every other error: human text plus the correlation id to quote when asking for help.</summary>
public sealed record ErrorBody(string Detail, string CorrelationId);

/// <summary>
/// An expected failure as a value: handlers return it beside <c>Ok&lt;T&gt;</c>. It also declares the error
/// shapes in the OpenAPI document, so every endpoint documents its 4xx answers.
/// </summary>
public sealed class ApiError : IResult, IEndpointMetadataProvider
{
    private ApiError(int statusCode, string? detail, IReadOnlyList<ValidationError>? problems)
    {
        StatusCode = statusCode;
        Detail = detail;
        Problems = problems;
    }

    public int StatusCode { get; }
    public string? Detail { get; }
    public IReadOnlyList<ValidationError>? Problems { get; }

    /// <summary>Seconds the client should wait, sent as <c>Retry-After</c> (429 only).</summary>
    public int? RetryAfterSeconds { get; private init; }

    public static ApiError Validation(IReadOnlyList<ValidationError> problems) => new(StatusCodes.Status422UnprocessableEntity, null, problems);
    public static ApiError Validation(ValidationError problem) => Validation([problem]);
    public static ApiError BadRequest(string detail) => new(StatusCodes.Status400BadRequest, detail, null);
    public static ApiError Unauthorized(string detail) => new(StatusCodes.Status401Unauthorized, detail, null);
    public static ApiError Forbidden(string detail) => new(StatusCodes.Status403Forbidden, detail, null);
    public static ApiError NotFound(string detail) => new(StatusCodes.Status404NotFound, detail, null);
    public static ApiError Conflict(string detail) => new(StatusCodes.Status409Conflict, detail, null);
    /// <summary>This process does not do what was asked (a role it does not run, a schema newer than it knows); another may.</summary>
    public static ApiError Unavailable(string detail) => new(StatusCodes.Status503ServiceUnavailable, detail, null);
    public static ApiError BodyTooLarge() => new(StatusCodes.Status413PayloadTooLarge, $"Request body is larger than {RequestBody.MaxBytes / 1024} KiB.", null);
    /// <summary>What Kestrel found wrong with the request itself (a body too large, stalled or cut off), with its own status.</summary>
    public static ApiError FromBadRequest(BadHttpRequestException exception) => exception.StatusCode switch
    {
        StatusCodes.Status413PayloadTooLarge => BodyTooLarge(),
        StatusCodes.Status408RequestTimeout => new(StatusCodes.Status408RequestTimeout, "The request body did not arrive in time.", null),
        var status => new(status, $"Bad request: {exception.Message}", null),
    };

    public static ApiError TooManyRequests(int retryAfterSeconds) =>
        new(StatusCodes.Status429TooManyRequests, $"Rate limit exceeded: retry in {retryAfterSeconds} s.", null) { RetryAfterSeconds = retryAfterSeconds };

    public Task ExecuteAsync(HttpContext httpContext)
    {
        if (RetryAfterSeconds is { } seconds) httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Problems is not null
            ? TypedResults.Json(new HttpValidationError(Problems), statusCode: StatusCode).ExecuteAsync(httpContext)
            : TypedResults.Json(new ErrorBody(Detail!, httpContext.CorrelationId()), statusCode: StatusCode).ExecuteAsync(httpContext);
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status422UnprocessableEntity, typeof(HttpValidationError), ["application/json"]));
        foreach (var status in new[] { 400, 401, 403, 404, 408, 409, 413, 429 })
            builder.Metadata.Add(new ProducesResponseTypeMetadata(status, typeof(ErrorBody), ["application/json"]));
    }
}
