using System.Text.Json;
using System.Text.Json.Serialization;

namespace Calc.Calculations.Contracts;

/// <summary>
/// Writes an exact number held as text ("51", "-7/2", a 456574-digit factorial): as a JSON number when it is an
/// integer of at most 15 digits (which every JSON parser reads exactly, JavaScript included), otherwise as a JSON
/// string, so that no client silently rounds it. Reads either form back as text.
/// </summary>
public sealed class ExactNumberJsonConverter : JsonConverter<string?>
{
    /// <summary>Longest integer written as a JSON number.</summary>
    public const int MaxDigitsAsNumber = 15;

    /// <inheritdoc />
    public override bool HandleNull => true;

    /// <inheritdoc />
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.Null => null,
            JsonTokenType.String => reader.GetString(),
            JsonTokenType.Number => System.Text.Encoding.UTF8.GetString(reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan),
            _ => throw new JsonException("Expected a number or a string."),
        };

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else if (IsShortInteger(value))
        {
            writer.WriteRawValue(value, skipInputValidation: true);
        }
        else
        {
            writer.WriteStringValue(value);
        }
    }

    private static bool IsShortInteger(string value)
    {
        var digits = value.StartsWith('-') ? value.AsSpan(1) : value.AsSpan();
        return digits.Length is > 0 and <= MaxDigitsAsNumber
            && !digits.ContainsAnyExceptInRange('0', '9')
            && (digits.Length == 1 || digits[0] != '0');
    }
}
