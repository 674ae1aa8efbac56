using Microsoft.OpenApi;
using ProspectEvents.Server.Auth;
using ProspectEvents.Server.Http;
using Scalar.AspNetCore;

namespace ProspectEvents.Server.Hosting;

/// <summary>The OpenAPI description at <c>/openapi/v1.json</c> and the interactive docs UI at <c>/docs</c>.</summary>
public static class ApiDocs
{
    public static WebApplicationBuilder AddApiDocs(this WebApplicationBuilder builder)
    {
        builder.Services.AddOpenApi("v1", options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "ProspectEvents API",
                    Version = "v1",
                    Description = "Career-event monitoring, wire-compatible with Explorium's v1 prospect-events API. Authenticate with the api_key header.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[ApiKeyFilter.Header] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = ApiKeyFilter.Header,
                    Description = "A key issued by `partners create` or `keys create`: pek_ followed by 43 base64url characters.",
                };
                document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyFilter.Header, document)] = [] }];
                return Task.CompletedTask;
            });
            options.AddOperationTransformer(JsonBodyMetadata.DescribeAsync);
            // Item patterns have no DataAnnotations attribute of their own.
            options.AddSchemaTransformer((schema, context, _) =>
            {
                var pattern = context.JsonPropertyInfo?.AttributeProvider?.GetCustomAttributes(typeof(ItemPatternAttribute), true)
                    .OfType<ItemPatternAttribute>().FirstOrDefault()?.Pattern;
                if (pattern is not null && schema.Items is OpenApiSchema items) items.Pattern = pattern;
                return Task.CompletedTask;
            });
        });
        return builder;
    }

    public static WebApplication MapApiDocs(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");
        // Self-contained: the UI's script is the copy the package embeds and serves, and every hosted extra (the AI
        // agent, MCP, telemetry, web fonts, the developer toolbar with its deploy and share offers) is switched off.
        app.MapScalarApiReference("/docs", options => options
            .WithTitle("ProspectEvents API")
            .WithOpenApiRoutePattern("/openapi/{documentName}.json")
            .DisableAgent()
            .DisableMcp()
            .DisableTelemetry()
            .DisableDefaultFonts()
            .HideDeveloperTools()
            .HideClientButton());
        return app;
    }
}
