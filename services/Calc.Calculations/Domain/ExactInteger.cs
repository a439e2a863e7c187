using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace Calc.Calculations.Domain;

/// <summary>
/// Reads an integer from JSON exactly: a number token without fraction or exponent (any number of digits), or a
/// string holding one (for clients whose JSON numbers are doubles).
/// </summary>
internal static class ExactInteger
{
    public static bool TryRead(JsonElement? element, int maxDigits, out BigInteger value, out string error)
    {
        value = default;
        string text;
        switch (element?.ValueKind)
        {
            case null or JsonValueKind.Null or JsonValueKind.Undefined:
                error = "is required.";
                return false;
            case JsonValueKind.Number:
                text = element.Value.GetRawText();
                break;
            case JsonValueKind.String:
                text = element.Value.GetString()!.Trim();
                break;
            default:
                error = "must be an integer (a JSON number or a string of digits).";
                return false;
        }

        var digits = text.StartsWith('-') || text.StartsWith('+') ? text.AsSpan(1) : text.AsSpan();
        if (digits.Length == 0 || digits.ContainsAnyExceptInRange('0', '9'))
        {
            error = "must be an integer, exactly: no fraction, exponent or other characters.";
            return false;
        }

        if (digits.Length > maxDigits)
        {
            error = $"has {digits.Length} digits; at most {maxDigits} are allowed (Calculations:MaxInputDigits).";
            return false;
        }

        value = BigInteger.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        error = string.Empty;
        return true;
    }

    public static string Normalize(BigInteger value) => value.ToString(CultureInfo.InvariantCulture);
}
