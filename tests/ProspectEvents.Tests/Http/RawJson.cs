using System.Text;

namespace ProspectEvents.Tests.Http;

/// <summary>
/// A JSON tree written byte for byte as built, so a test can send what no serializer would write: invalid UTF-8 and
/// lone surrogate escapes in strings and property names, duplicate names, raw control characters, any number literal.
/// Strings and names hold the bytes that go between their quotes, escapes already applied.
/// </summary>
public abstract class RawJson
{
    public abstract void WriteTo(Stream output);

    public abstract RawJson Clone();

    public byte[] ToBytes()
    {
        using var output = new MemoryStream();
        WriteTo(output);
        return output.ToArray();
    }

    /// <summary>A string value; <paramref name="text"/> is escaped as JSON requires and encoded as UTF-8.</summary>
    public static RawString String(string text) => new(Escape(text));

    /// <summary>Anything written verbatim: a number, true, false, null, or bytes that are no JSON at all.</summary>
    public static RawToken Token(string text) => new(Encoding.UTF8.GetBytes(text));

    /// <summary>The bytes between the quotes of a JSON string holding <paramref name="text"/>.</summary>
    public static byte[] Escape(string text)
    {
        var escaped = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': escaped.Append("\\\""); break;
                case '\\': escaped.Append("\\\\"); break;
                case < ' ': escaped.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture)); break;
                default: escaped.Append(c); break;
            }
        }
        return Encoding.UTF8.GetBytes(escaped.ToString());
    }
}

public sealed class RawObject : RawJson
{
    public List<RawProperty> Properties { get; } = [];

    public RawObject Add(string name, RawJson value)
    {
        Properties.Add(new RawProperty(Escape(name), value));
        return this;
    }

    public override void WriteTo(Stream output)
    {
        output.WriteByte((byte)'{');
        for (var i = 0; i < Properties.Count; i++)
        {
            if (i > 0) output.WriteByte((byte)',');
            output.WriteByte((byte)'"');
            output.Write(Properties[i].Name);
            output.WriteByte((byte)'"');
            output.WriteByte((byte)':');
            Properties[i].Value.WriteTo(output);
        }
        output.WriteByte((byte)'}');
    }

    public override RawJson Clone()
    {
        var copy = new RawObject();
        foreach (var property in Properties) copy.Properties.Add(new RawProperty(property.Name, property.Value.Clone()));
        return copy;
    }
}

public sealed class RawProperty(byte[] name, RawJson value)
{
    public byte[] Name { get; set; } = name;

    public RawJson Value { get; set; } = value;

    public string NameText => Encoding.UTF8.GetString(Name);
}

public sealed class RawArray : RawJson
{
    public List<RawJson> Items { get; } = [];

    public override void WriteTo(Stream output)
    {
        output.WriteByte((byte)'[');
        for (var i = 0; i < Items.Count; i++)
        {
            if (i > 0) output.WriteByte((byte)',');
            Items[i].WriteTo(output);
        }
        output.WriteByte((byte)']');
    }

    public override RawJson Clone()
    {
        var copy = new RawArray();
        foreach (var item in Items) copy.Items.Add(item.Clone());
        return copy;
    }
}

public sealed class RawString(byte[] content) : RawJson
{
    /// <summary>The bytes between the quotes.</summary>
    public byte[] Content { get; } = content;

    public override void WriteTo(Stream output)
    {
        output.WriteByte((byte)'"');
        output.Write(Content);
        output.WriteByte((byte)'"');
    }

    public override RawJson Clone() => this; // immutable
}

public sealed class RawToken(byte[] bytes) : RawJson
{
    public byte[] Bytes { get; } = bytes;

    public override void WriteTo(Stream output) => output.Write(Bytes);

    public override RawJson Clone() => this; // immutable
}
