namespace ProspectEvents;

/// <summary>
/// The anchor's v2 <c>EventTypeEnum</c>: one enum shared by its prospect and business endpoints. We detect the three
/// prospect types (<see cref="EventTypeNames"/>); v2 requests may still name the others, which match no event here.
/// </summary>
public static class AnchorEventTypes
{
    /// <summary>The business types, as the anchor's OpenAPI document (Partner Service 0.3.31) spells them, in its order.</summary>
    public static readonly IReadOnlyList<string> Business =
    [
        "award", "closing_office", "company_award", "cost_cutting", "decrease_in_all_departments",
        "decrease_in_customer_service_department", "decrease_in_engineering_department",
        "decrease_in_marketing_department", "decrease_in_operations_department", "decrease_in_sales_department",
        "employee_joined_company", "executive_joined_company", "funding_round", "hiring_in_creative_department",
        "hiring_in_education_department", "hiring_in_engineering_department", "hiring_in_finance_department",
        "hiring_in_health_department", "hiring_in_human_resources_department", "hiring_in_legal_department",
        "hiring_in_marketing_department", "hiring_in_operations_department",
        "hiring_in_professional_service_department", "hiring_in_sales_department", "hiring_in_support_department",
        "hiring_in_trade_department", "hiring_in_unknown_department", "increase_in_all_departments",
        "increase_in_customer_service_department", "increase_in_engineering_department",
        "increase_in_marketing_department", "increase_in_operations_department", "increase_in_sales_department",
        "ipo_announcement", "lawsuits_and_legal_issues", "merger_and_acquisitions", "new_funding_round",
        "new_investment", "new_office", "new_partnership", "new_product", "outages_and_security_breaches",
    ];

    /// <summary>Every value, prospect types first.</summary>
    public static readonly IReadOnlyList<string> All = [.. EventTypeNames.All, .. Business];

    private static readonly HashSet<string> Known = new(All, StringComparer.Ordinal);

    public static bool IsKnown(string name) => Known.Contains(name);

    public static readonly string EnumMessage = $"Input should be {string.Join(", ", All.SkipLast(1).Select(n => $"'{n}'"))} or '{All[^1]}'";
}
