using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Calc.Core.Hosting;

/// <summary>
/// Turns a request the framework could not bind (malformed JSON, a string where a number belongs, a missing body)
/// into a 400 validation problem that names the field, instead of an empty 400 or a 500.
/// </summary>
internal sealed partial class BadRequestExceptionHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException badRequest)
        {
            return false;
        }

        if (badRequest.StatusCode != StatusCodes.Status400BadRequest)
        {
            await TypedResults.Problem(statusCode: badRequest.StatusCode, detail: badRequest.Message).ExecuteAsync(httpContext);
            return true;
        }

        var (field, message) = Describe(badRequest);
        var result = TypedResults.ValidationProblem(
            new Dictionary<string, string[]> { [field] = [message] },
            detail: "The request could not be read.");
        await result.ExecuteAsync(httpContext);
        return true;
    }

    private static (string Field, string Message) Describe(BadHttpRequestException exception)
    {
        if (exception.InnerException is JsonException json)
        {
            var field = FieldFromPath(json.Path);
            return field.Length == 0
                ? ("body", "The body is not valid JSON.")
                : (field, $"The value of '{field}' has the wrong type or format.");
        }

        // 'Failed to bind parameter "int page" from "abc".' / 'Required parameter "int page" was not provided ...'
        var parameter = ParameterName().Match(exception.Message);
        if (parameter.Success)
        {
            var name = parameter.Groups["name"].Value;
            return (name, $"The value of '{name}' is missing or has the wrong type or format.");
        }

        return exception.Message.Contains("body", StringComparison.OrdinalIgnoreCase)
            ? ("body", "A JSON body is required.")
            : ("request", exception.Message);
    }

    // "$.timeoutSeconds" -> "timeoutSeconds", "$.terms[2]" -> "terms[2]", "$" -> ""
    private static string FieldFromPath(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? string.Empty : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    [GeneratedRegex("parameter \"[^\" ]+ (?<name>[^\"]+)\"")]
    private static partial Regex ParameterName();
}
