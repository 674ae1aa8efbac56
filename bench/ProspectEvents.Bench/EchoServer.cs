using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using System.Text.Json;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ProspectEvents.Bench;

/// <summary>
/// The baseline: the cheapest honest version of the endpoint. A minimal Kestrel app that binds the
/// same JSON shape as the enrollment request (source-generated System.Text.Json) and serializes it
/// back. No auth, no validation, no storage. Whatever the real server does beyond this is its cost.
/// </summary>
internal static class EchoServer
{
    public static async Task<int> RunAsync(string[] args)
    {
        // Same knobs as the real server: --urls on the command line, Logging__LogLevel__Default=Warning
        // in the environment (set by the orchestrator for both servers).
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.WebHost.ConfigureKestrel(k => k.ConfigureEndpointDefaults(l => l.Protocols = HttpProtocols.Http1));
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            // The generated metadata is used with these options, so the naming policy must be set here too.
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, WireJsonContext.Default);
        });

        var app = builder.Build();
        app.MapGet("/readyz", () => TypedResults.Ok());
        // The fetch benchmark's baseline: the cheapest GET Kestrel serves (a constant short text).
        app.MapGet("/get", () => "ok");
        app.MapPost("/echo", (EnrollmentRequestEcho request) => TypedResults.Ok(request));

        await app.RunAsync();
        return 0;
    }
}
