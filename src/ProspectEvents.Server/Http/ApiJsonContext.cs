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
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(string))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
