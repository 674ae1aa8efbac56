namespace ProspectEvents.Tests.Infrastructure;

/// <summary>The anchor's own example request (seed page "Add Prospects Enrollments"), verbatim.</summary>
public static class Seed
{
    public const string EnrollmentExample = """
        {
          "enrollment_key": "tech_executives_monitor",
          "prospect_ids": [
            "20ae6cbf564ee683e66685e429844a5ff8ffc30f",
            "4c485f009d59e319dc039cdf3e935b85014e6a33"
          ],
          "event_types": [
            "prospect_changed_role",
            "prospect_changed_company"
          ],
          "ttl_days": 365
        }
        """;
}
