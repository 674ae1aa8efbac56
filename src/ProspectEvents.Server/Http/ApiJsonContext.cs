using System.Text.Json;
using System.Text.Json.Serialization;
using ProspectEvents.Server.Admin;
using ProspectEvents.Server.Enrollments;

namespace ProspectEvents.Server.Http;

/// <summary>Source-generated JSON for everything the API writes: snake_case, as the anchor speaks.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(EnrollmentSaved))]
[JsonSerializable(typeof(EnrollmentList))]
[JsonSerializable(typeof(StatusResult))]
[JsonSerializable(typeof(AddEnrollmentBody))]
[JsonSerializable(typeof(ReplaceEnrollmentBody))]
[JsonSerializable(typeof(DeleteEnrollmentBody))]
[JsonSerializable(typeof(HttpValidationError))]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(PartnerCreated))]
[JsonSerializable(typeof(KeyCreated))]
[JsonSerializable(typeof(CreatePartnerBody))]
[JsonSerializable(typeof(CreateKeyBody))]
[JsonSerializable(typeof(AdminStats))]
[JsonSerializable(typeof(HealthStatus))]
[JsonSerializable(typeof(IngestResult))]
[JsonSerializable(typeof(ProspectEvents.Server.Events.FetchEventsBody))]
[JsonSerializable(typeof(ProspectEvents.Server.Events.FetchEventsResult))]
[JsonSerializable(typeof(ProspectEvents.Server.Webhooks.RegisterWebhookBody))]
[JsonSerializable(typeof(ProspectEvents.Server.Webhooks.UpdateWebhookBody))]
[JsonSerializable(typeof(ProspectEvents.Server.Webhooks.CheckConnectivityBody))]
[JsonSerializable(typeof(ProspectEvents.Server.Webhooks.RecoverBody))]
[JsonSerializable(typeof(ProspectEvents.Server.Webhooks.WebhookView))]
[JsonSerializable(typeof(ProspectEvents.Server.Webhooks.ResponseOnly))]
[JsonSerializable(typeof(ProspectEvents.Server.Webhooks.ConnectivityReport))]
[JsonSerializable(typeof(ProspectEvents.Server.Webhooks.DeliveryList))]
[JsonSerializable(typeof(ProspectEvents.Server.Webhooks.DeliveryResult))]
[JsonSerializable(typeof(ProspectEvents.Server.Webhooks.RecoverResult))]
[JsonSerializable(typeof(ProspectEvents.Detection.ChangeEventData))]
[JsonSerializable(typeof(ProspectEvents.Detection.AnniversaryEventData))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(string))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
