using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ProspectEvents.Server.Http;

/// <summary>
/// Documents a JSON request body that the handler reads itself. Unlike <c>Accepts&lt;T&gt;()</c> it does not make
/// routing answer 415 to a body sent without <c>Content-Type: application/json</c>: like the anchor (FastAPI),
/// we parse the body as JSON whatever it is labelled.
/// </summary>
public sealed record JsonBodyMetadata(Type BodyType)
{
    public static async Task DescribeAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.Description.ActionDescriptor.EndpointMetadata.OfType<JsonBodyMetadata>().FirstOrDefault() is not { } body) return;
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/json"] = new() { Schema = await context.GetOrCreateSchemaAsync(body.BodyType, cancellationToken: cancellationToken) },
            },
        };
    }
}

public static class JsonBodyExtensions
{
    public static RouteHandlerBuilder WithJsonBody<TBody>(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(new JsonBodyMetadata(typeof(TBody)));
}
