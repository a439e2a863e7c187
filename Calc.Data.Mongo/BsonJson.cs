using System.Buffers;
using System.Text.Json;
using MongoDB.Bson;

namespace Calc.Data.Mongo;

/// <summary>
/// The document's System.Text.Json form as BSON and back, exactly: the service's serializer options decide the JSON
/// (names, enums, dates as strings), and this mapping keeps every JSON value as it was. Integers that fit become
/// Int32 or Int64; every other number becomes a Decimal128, which keeps its digits (a double would round a
/// <see cref="decimal"/>). Nothing reaches the driver's own serializers, so no Guid, date or enum convention of the
/// driver applies (a Guid is the JSON string System.Text.Json wrote).
/// </summary>
internal static class BsonJson
{
    /// <summary>The significant digits a Decimal128 holds exactly.</summary>
    public const int MaxDecimalDigits = 34;

    /// <summary>The JSON object <paramref name="json"/> as a BSON document, member order kept.</summary>
    /// <exception cref="NotSupportedException">A number has more significant digits than a Decimal128 holds.</exception>
    public static BsonDocument ToBson(JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.Object)
        {
            throw new NotSupportedException($"A document must serialize to a JSON object, not {json.ValueKind}.");
        }

        return Document(json);
    }

    /// <summary>The BSON document as UTF-8 JSON, for System.Text.Json to read.</summary>
    /// <exception cref="InvalidDataException">The document holds a BSON type this mapping never writes.</exception>
    public static byte[] ToJson(BsonDocument document)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, document, "");
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static BsonDocument Document(JsonElement json)
    {
        var document = new BsonDocument();
        foreach (var property in json.EnumerateObject())
        {
            // A repeated name keeps the last value, as System.Text.Json reads it.
            document[property.Name] = Value(property.Value);
        }

        return document;
    }

    private static BsonValue Value(JsonElement json) => json.ValueKind switch
    {
        JsonValueKind.Object => Document(json),
        JsonValueKind.Array => new BsonArray(json.EnumerateArray().Select(Value)),
        JsonValueKind.String => new BsonString(json.GetString()!),
        JsonValueKind.Number => Number(json),
        JsonValueKind.True => BsonBoolean.True,
        JsonValueKind.False => BsonBoolean.False,
        _ => BsonNull.Value,
    };

    private static BsonValue Number(JsonElement json)
    {
        if (json.TryGetInt32(out var small))
        {
            return new BsonInt32(small);
        }

        if (json.TryGetInt64(out var large))
        {
            return new BsonInt64(large);
        }

        var text = json.GetRawText();
        if (SignificantDigits(text) > MaxDecimalDigits || !Decimal128.TryParse(text, out var value))
        {
            throw new NotSupportedException(
                $"The number {text} cannot be stored exactly in MongoDB (a Decimal128 holds {MaxDecimalDigits} significant digits); store it as a string.");
        }

        return new BsonDecimal128(value);
    }

    private static int SignificantDigits(string number)
    {
        var mantissa = number.AsSpan();
        var exponent = mantissa.IndexOfAny('e', 'E');
        if (exponent >= 0)
        {
            mantissa = mantissa[..exponent];
        }

        var digits = 0;
        var leading = true;
        foreach (var c in mantissa)
        {
            if (c is >= '1' and <= '9' || (c == '0' && !leading))
            {
                leading = false;
                digits++;
            }
        }

        return digits;
    }

    private static void Write(Utf8JsonWriter writer, BsonValue value, string path)
    {
        switch (value.BsonType)
        {
            case BsonType.Document:
                writer.WriteStartObject();
                foreach (var element in value.AsBsonDocument)
                {
                    writer.WritePropertyName(element.Name);
                    Write(writer, element.Value, $"{path}.{element.Name}");
                }

                writer.WriteEndObject();
                break;
            case BsonType.Array:
                writer.WriteStartArray();
                var index = 0;
                foreach (var item in value.AsBsonArray)
                {
                    Write(writer, item, $"{path}[{index++}]");
                }

                writer.WriteEndArray();
                break;
            case BsonType.String:
                writer.WriteStringValue(value.AsString);
                break;
            case BsonType.Int32:
                writer.WriteNumberValue(value.AsInt32);
                break;
            case BsonType.Int64:
                writer.WriteNumberValue(value.AsInt64);
                break;
            case BsonType.Decimal128:
                // IEEE 754 text, e.g. 12345.67 or 1E-7: valid JSON, and System.Text.Json reads the exponent form exactly.
                writer.WriteRawValue(value.AsDecimal128.ToString());
                break;
            case BsonType.Double:
                writer.WriteNumberValue(value.AsDouble);
                break;
            case BsonType.Boolean:
                writer.WriteBooleanValue(value.AsBoolean);
                break;
            case BsonType.Null:
                writer.WriteNullValue();
                break;
            default:
                throw new InvalidDataException($"The stored document holds a BSON {value.BsonType} at 'body{path}', which is not JSON this provider wrote.");
        }
    }
}
