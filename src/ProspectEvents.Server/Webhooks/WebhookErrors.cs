using ProspectEvents.Server.Http;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Webhooks;

/// <summary>The webhook errors both API versions answer, worded once.</summary>
public static class WebhookErrors
{
    public static ApiError NotFound(string webhookId) => ApiError.NotFound($"No webhook '{webhookId}'.");

    public static ApiError LimitReached() =>
        ApiError.Conflict($"This partner has {WebhookModel.MaxPerPartner} webhooks, the most it may have (the v1 webhook counts); delete one with DELETE /v2/webhooks/{{webhook_id}} first.");

    public static ApiError NameTaken(string name) => ApiError.Conflict($"Another webhook of this partner is named '{name}'.");

    public static ApiError Legacy(string webhookId) =>
        ApiError.Conflict($"Webhook '{webhookId}' is the v1 partner webhook (legacy): it is read-only in v2; change it with PUT, POST or DELETE /v1/webhooks.");

    public static ApiError InUse(string webhookId, IReadOnlyList<string> enrollmentIds) =>
        ApiError.Conflict($"Webhook '{webhookId}' is used by active enrollments {string.Join(", ", enrollmentIds)}; " +
            "point them at another webhook (PATCH /v2/prospects/events/enrollments/{enrollment_id}) or delete with ?force=true, which pauses them.");
}
