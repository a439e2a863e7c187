using System.CommandLine;
using System.Globalization;
using System.Numerics;
using System.Text.Json.Nodes;

namespace Calc.Cli.Commands;

/// <summary>The options a calculation is created with, shared by <c>calc submit</c> and <c>calc create</c>.</summary>
internal static class CalculationInput
{
    public static readonly Option<string?> Priority = new("--priority") { Description = "normal or high (high may use the reserved slots)" };

    public static readonly Option<int?> Timeout = new("--timeout") { Description = "Seconds processing may take before it is stopped", HelpName = "seconds" };

    public static readonly Option<string?> Callback = new("--callback") { Description = "URL the final calculation is posted to", HelpName = "url" };

    public static Argument<string> TypeArgument() =>
        new("type") { Description = "addition, subtraction, multiplication, division, power or factorial" };

    public static Argument<string> InitArgument() => new("init") { Description = "The starting integer (any size)" };

    /// <summary>The body of POST /calculations.</summary>
    public static JsonObject CreateBody(ParseResult parse, string type, string init)
    {
        var body = new JsonObject { ["type"] = type, ["init"] = Number(init) };
        if (parse.GetValue(Priority) is { Length: > 0 } priority)
        {
            body["priority"] = priority;
        }

        if (parse.GetValue(Timeout) is { } timeout)
        {
            body["timeoutSeconds"] = timeout;
        }

        if (parse.GetValue(Callback) is { Length: > 0 } callback)
        {
            body["callbackUrl"] = callback;
        }

        return body;
    }

    /// <summary>
    /// An integer as JSON: a number when it is exact in every JSON parser (15 digits or fewer), else a string of digits,
    /// which the API takes for integers of any size. Anything else goes as typed, for the API to name in its 400.
    /// </summary>
    public static JsonNode Number(string text) =>
        BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && BigInteger.Abs(value) < 1_000_000_000_000_000
            ? JsonValue.Create((long)value)
            : JsonValue.Create(text);
}
