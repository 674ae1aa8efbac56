using System.Globalization;
using System.Text.Json;

namespace ProspectEvents.Server.Http;

/// <summary>
/// Validates a JSON object field by field, collecting every problem with its location, in the shape and
/// wording of FastAPI/pydantic (the anchor API's clients parse these). Each accessor records its field as
/// known; <see cref="Finish"/> rejects the rest as <c>extra_forbidden</c>.
/// </summary>
public sealed class BodyValidator
{
    private readonly JsonElement _body;
    private readonly object[] _at;
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);
    private readonly List<ValidationError> _problems;
    private readonly List<BodyValidator> _nested = [];

    public BodyValidator(JsonDocument document)
    {
        _body = document.RootElement;
        _at = ["body"];
        _problems = [];
        if (_body.ValueKind != JsonValueKind.Object)
            _problems.Add(new(["body"], "Input should be a valid dictionary or object to extract fields from", "model_attributes_type"));
    }

    // A nested object's validator: its problems go to its parent's list, located under the parent's field.
    private BodyValidator(JsonElement body, object[] at, List<ValidationError> problems)
    {
        _body = body;
        _at = at;
        _problems = problems;
    }

    public bool IsObject => _body.ValueKind == JsonValueKind.Object;

    /// <summary>Marks a field as known without reading it, so <see cref="Finish"/> does not reject it.</summary>
    public void Allow(string name) => _known.Add(name);

    /// <summary>Whether the body has the field with a value other than null: for partial updates, which leave absent fields alone.</summary>
    public bool Has(string name) => IsObject && _body.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    public string? RequiredString(string name, int minLength, int maxLength)
    {
        if (!Required(name, out var value)) return null;
        if (value.ValueKind != JsonValueKind.String) return Fail<string>([name], "Input should be a valid string", "string_type", value);
        var text = value.GetString()!;
        if (HasControlCharacter(text)) return Fail<string>([name], ControlCharacterMessage, "string_pattern_mismatch", value);
        if (text.Length < minLength) return Fail<string>([name], $"String should have at least {minLength} character{Plural(minLength)}", "string_too_short", value);
        if (text.Length > maxLength) return Fail<string>([name], $"String should have at most {maxLength} character{Plural(maxLength)}", "string_too_long", value);
        return text;
    }

    /// <summary>
    /// A list of strings with a count range; <paramref name="item"/> validates one element and returns null with a
    /// message and type when it is wrong.
    /// </summary>
    public List<string>? RequiredStringList(string name, int minItems, int maxItems, Func<string, (string Msg, string Type)?> item, bool unique = false)
    {
        if (!Required(name, out var value)) return null;
        if (value.ValueKind != JsonValueKind.Array) return Fail<List<string>>([name], "Input should be a valid list", "list_type", value);
        var count = value.GetArrayLength();
        if (count < minItems) return Fail<List<string>>([name], $"List should have at least {minItems} item{Plural(minItems)} after validation, not {count}", "too_short", value);
        if (count > maxItems) return Fail<List<string>>([name], $"List should have at most {maxItems} item{Plural(maxItems)} after validation, not {count}", "too_long", value);

        var items = new List<string>(count);
        var ok = true;
        var index = 0;
        foreach (var element in value.EnumerateArray())
        {
            var text = element.ValueKind == JsonValueKind.String ? element.GetString()! : null;
            if (text is null)
            {
                Problem([name, index], "Input should be a valid string", "string_type", element);
                ok = false;
            }
            else if (item(text) is { } problem)
            {
                Problem([name, index], problem.Msg, problem.Type, element);
                ok = false;
            }
            else if (HasControlCharacter(text))
            {
                Problem([name, index], ControlCharacterMessage, "string_pattern_mismatch", element);
                ok = false;
            }
            else
            {
                items.Add(text);
            }
            index++;
        }
        if (ok && unique && items.Distinct(StringComparer.Ordinal).Count() != items.Count)
            return Fail<List<string>>([name], "Value error, list items must be unique", "value_error", value);
        return ok ? items : null;
    }

    /// <summary>The <c>prospect_ids</c> field: 40-lowercase-hex strings, <paramref name="maxItems"/> at most.</summary>
    public List<string>? ProspectIds(int maxItems, bool unique = false) =>
        RequiredStringList("prospect_ids", 1, maxItems,
            id => ProspectId.IsValid(id) ? null : ($"String should match pattern '{ProspectId.Pattern}'", "string_pattern_mismatch"), unique);

    /// <summary>The <c>event_types</c> field: at least one of the anchor's prospect event names; duplicates collapse.</summary>
    public List<string>? EventTypes(int maxItems = int.MaxValue) =>
        RequiredStringList("event_types", 1, maxItems, name => EventTypeNames.TryParse(name, out _) ? null : (EventTypeEnumMessage, "enum"))
            ?.Distinct(StringComparer.Ordinal).ToList();

    /// <summary>
    /// v2's <c>event_types</c>: any value of the anchor's shared EventTypeEnum, business types included (a fetch finds
    /// none of those); duplicates collapse.
    /// </summary>
    public List<string>? AnyEventTypes(int maxItems = int.MaxValue) =>
        RequiredStringList("event_types", 1, maxItems, name => AnchorEventTypes.IsKnown(name) ? null : (AnchorEventTypes.EnumMessage, "enum"))
            ?.Distinct(StringComparer.Ordinal).ToList();

    private static readonly string EventTypeEnumMessage =
        $"Input should be '{EventTypeNames.ChangedRole}', '{EventTypeNames.ChangedCompany}' or '{EventTypeNames.JobStartAnniversary}'";

    /// <summary>An optional string; null when absent or null.</summary>
    public string? OptionalString(string name)
    {
        _known.Add(name);
        if (!IsObject || !_body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String) return Fail<string>([name], "Input should be a valid string", "string_type", value);
        var text = value.GetString()!;
        return HasControlCharacter(text) ? Fail<string>([name], ControlCharacterMessage, "string_pattern_mismatch", value) : text;
    }

    /// <summary>An optional string of <paramref name="minLength"/> to <paramref name="maxLength"/> characters; null when absent or null.</summary>
    public string? OptionalString(string name, int minLength, int maxLength)
    {
        if (OptionalString(name) is not { } text) return null;
        var value = _body.GetProperty(name);
        if (text.Length < minLength) return Fail<string>([name], $"String should have at least {minLength} character{Plural(minLength)}", "string_too_short", value);
        if (text.Length > maxLength) return Fail<string>([name], $"String should have at most {maxLength} character{Plural(maxLength)}", "string_too_long", value);
        return text;
    }

    // Every string the API reads is an identifier, a key, a name, a URL or a date: none holds a control character,
    // and PostgreSQL stores no NUL at all, so they are refused alike on both backends.
    private static readonly System.Buffers.SearchValues<char> ControlCharacters =
        System.Buffers.SearchValues.Create([.. Enumerable.Range(0, 0x20).Select(c => (char)c), .. Enumerable.Range(0x7F, 0x21).Select(c => (char)c)]);

    private const string ControlCharacterMessage = "String should not contain control characters (U+0000-U+001F, U+007F-U+009F)";

    private static bool HasControlCharacter(string text) => text.AsSpan().ContainsAny(ControlCharacters);

    /// <summary>Reports a problem found by the caller's own rule (pydantic's <c>value_error</c>).</summary>
    public void Reject(string name, string message, string type = "value_error")
    {
        var value = IsObject && _body.TryGetProperty(name, out var found) ? found : default;
        _problems.Add(new([.. _at, name], message, type, value.ValueKind == JsonValueKind.Undefined ? null : value.Clone()));
    }

    /// <summary>Reports a problem with one item of a list field (its index in <c>loc</c>).</summary>
    public void RejectItem(string name, int index, string message, string type = "value_error")
    {
        var value = IsObject && _body.TryGetProperty(name, out var list) && list.ValueKind == JsonValueKind.Array && index < list.GetArrayLength() ? list[index] : default;
        _problems.Add(new([.. _at, name, index], message, type, value.ValueKind == JsonValueKind.Undefined ? null : value.Clone()));
    }

    /// <summary>
    /// An optional list of strings (absent or null: null); <paramref name="item"/> validates one element as in
    /// <see cref="RequiredStringList"/>.
    /// </summary>
    public List<string>? OptionalStringList(string name, int maxItems, Func<string, (string Msg, string Type)?> item)
    {
        if (!IsObject || !_body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            _known.Add(name);
            return null;
        }
        return RequiredStringList(name, 0, maxItems, item);
    }

    /// <summary>
    /// An optional nested object, validated field by field like the body (problems located under
    /// <paramref name="name"/>); null when absent or null. Its unknown fields are rejected by <see cref="Finish"/>.
    /// </summary>
    public BodyValidator? OptionalObject(string name)
    {
        _known.Add(name);
        if (!IsObject || !_body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Object) return Fail<BodyValidator>([name], "Input should be a valid dictionary or object to extract fields from", "model_attributes_type", value);
        var nested = new BodyValidator(value, [.. _at, name], _problems);
        _nested.Add(nested);
        return nested;
    }

    /// <summary>An optional ISO date-time, or a date meaning the start (or, with <paramref name="endOfDay"/>, the end) of that UTC day.</summary>
    public DateTimeOffset? OptionalTime(string name, bool endOfDay = false)
    {
        if (OptionalString(name) is not { } text) return null;
        if (text.Length == 10 && DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            var start = new DateTimeOffset(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            if (!endOfDay) return start;
            return date == DateOnly.MaxValue ? DateTimeOffset.MaxValue : start.AddDays(1).AddMilliseconds(-1); // the last day has no next one
        }
        if (text.Contains('T', StringComparison.Ordinal) && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            return time;
        Reject(name, "Input should be a valid datetime or date, e.g. 2026-11-01T08:00:00Z or 2026-11-01", "datetime_parsing");
        return null;
    }

    /// <summary>An optional integer in a range; pydantic's lax mode also takes integral floats and numeric strings.</summary>
    public int? OptionalInt(string name, int min, int max)
    {
        _known.Add(name);
        if (!IsObject || !_body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        long number;
        if (value.ValueKind == JsonValueKind.Number)
        {
            if (!value.TryGetInt64(out number))
            {
                if (value.TryGetDouble(out var d) && d == Math.Floor(d) && Math.Abs(d) < 1e15) number = (long)d;
                else return Fail<int?>([name], "Input should be a valid integer, got a number with a fractional part", "int_from_float", value);
            }
        }
        else if (value.ValueKind == JsonValueKind.String)
        {
            if (!long.TryParse(value.GetString()!.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number))
                return Fail<int?>([name], "Input should be a valid integer, unable to parse string as an integer", "int_parsing", value);
        }
        else
        {
            return Fail<int?>([name], "Input should be a valid integer", "int_type", value);
        }
        if (number < min) return Fail<int?>([name], $"Input should be greater than or equal to {min}", "greater_than_equal", value);
        if (number > max) return Fail<int?>([name], $"Input should be less than or equal to {max}", "less_than_equal", value);
        return (int)number;
    }

    /// <summary>An optional string that must be one of <paramref name="allowed"/>.</summary>
    public string? OptionalEnum(string name, IReadOnlyList<string> allowed)
    {
        _known.Add(name);
        if (!IsObject || !_body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.String && allowed.Contains(value.GetString()!)) return value.GetString();
        var options = string.Join(", ", allowed.SkipLast(1).Select(a => $"'{a}'")) + $" or '{allowed[^1]}'";
        return Fail<string>([name], $"Input should be {options}", "enum", value);
    }

    /// <summary>An optional field that must be a JSON object or null; its content is the caller's own.</summary>
    public void OptionalObjectOrNull(string name)
    {
        _known.Add(name);
        if (IsObject && _body.TryGetProperty(name, out var value) && value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
            Problem([name], "Input should be a valid dictionary", "dict_type", value);
    }

    /// <summary>Rejects unknown fields; returns the 422 to send, or null when the body is valid.</summary>
    public ApiError? Finish()
    {
        RejectUnknownFields();
        return _problems.Count == 0 ? null : ApiError.Validation(_problems);
    }

    private void RejectUnknownFields()
    {
        if (IsObject)
        {
            foreach (var property in _body.EnumerateObject())
            {
                if (!_known.Contains(property.Name)) Problem([property.Name], "Extra inputs are not permitted", "extra_forbidden", property.Value);
            }
        }
        foreach (var nested in _nested) nested.RejectUnknownFields();
    }

    private bool Required(string name, out JsonElement value)
    {
        _known.Add(name);
        value = default;
        if (!IsObject) return false;
        if (_body.TryGetProperty(name, out value)) return true;
        _problems.Add(new([.. _at, name], "Field required", "missing"));
        return false;
    }

    private T? Fail<T>(object[] loc, string msg, string type, JsonElement input)
    {
        Problem(loc, msg, type, input);
        return default;
    }

    private void Problem(object[] loc, string msg, string type, JsonElement input) =>
        _problems.Add(new([.. _at, .. loc], msg, type, input.Clone()));

    private static string Plural(int n) => n == 1 ? "" : "s";
}
