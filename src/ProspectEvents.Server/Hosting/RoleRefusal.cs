using ProspectEvents.Server.Http;

namespace ProspectEvents.Server.Hosting;

/// <summary>What a process answers for work of a role it does not run: 503 (another process may serve it), naming the role.</summary>
public static class RoleRefusal
{
    public static ApiError Missing(string role, Roles roles) => ApiError.Unavailable(
        $"This process does not run the {role} role (Roles={string.Join(',', roles.Names)}); send the request to a process that does.");

    /// <summary>Every route of a process without the api role but <c>/healthz</c>, <c>/readyz</c>, <c>/metrics</c> and the ingest endpoint.</summary>
    public static ApiError MissingApi(Roles roles) => Missing(Roles.ApiName, roles);
}
