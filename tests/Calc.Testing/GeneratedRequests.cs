using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Bogus;
using Shouldly;

namespace Calc.Testing;

/// <summary>What a JSON field of a request holds, for <see cref="GeneratedRequests"/>.</summary>
public enum FieldKind
{
    /// <summary>An integer of any size, as a JSON number or a string of digits (with <see cref="FieldSpec.MaxDigits"/>).</summary>
    ExactInteger,

    /// <summary>A 32-bit integer between <see cref="FieldSpec.Min"/> and <see cref="FieldSpec.Max"/>.</summary>
    WholeNumber,

    /// <summary>An amount with at most two decimals, between <see cref="FieldSpec.Min"/> and <see cref="FieldSpec.Max"/>.</summary>
    Money,

    /// <summary>One of <see cref="FieldSpec.Allowed"/> (any letter case).</summary>
    Choice,

    /// <summary>A string made by <see cref="FieldSpec.Valid"/>.</summary>
    Text,
}

/// <summary>A JSON field of a request: its kind, whether it is required, and what a valid value is.</summary>
/// <param name="Name">The JSON name.</param>
/// <param name="Kind">What it holds.</param>
/// <param name="Required">Whether the request is invalid without it.</param>
public sealed record FieldSpec(string Name, FieldKind Kind, bool Required = false)
{
    /// <summary>The smallest valid number.</summary>
    public long Min { get; init; }

    /// <summary>The largest valid number.</summary>
    public long Max { get; init; } = int.MaxValue;

    /// <summary>The most digits of an <see cref="FieldKind.ExactInteger"/>.</summary>
    public int MaxDigits { get; init; } = 50;

    /// <summary>The valid values of a <see cref="FieldKind.Choice"/>.</summary>
    public IReadOnlyList<string> Allowed { get; init; } = [];

    /// <summary>Makes a valid value of a <see cref="FieldKind.Text"/>.</summary>
    public Func<Faker, string> Valid { get; init; } = f => f.Random.AlphaNumeric(8);
}

/// <summary>
/// One generated request: its body (null for none), content type, whether it is valid, and the field a 400 must name
/// (null when the fault is not one field's, like broken JSON).
/// </summary>
/// <param name="Case">The case number and what was done, for the failure message.</param>
/// <param name="Body">The body, or null.</param>
/// <param name="ContentType">The content type of the body.</param>
/// <param name="IsValid">Whether the service must accept it.</param>
/// <param name="Field">The field an invalid request's 400 must name, if any.</param>
public sealed record GeneratedRequest(string Case, string? Body, string ContentType, bool IsValid, string? Field);

/// <summary>
/// Valid and invalid JSON requests generated from a request's fields with Bogus, from a seed, so that a failure can be
/// replayed: set <c>CALC_TEST_SEED</c> to the seed the failure message names. Invalid ones break one thing each:
/// a wrong type, an out-of-range number, a huge string, a missing required field, an unknown choice, or the JSON itself.
/// </summary>
public sealed class GeneratedRequests
{
    private const int HugeLength = 200_000;

    private readonly Faker _faker;

    public GeneratedRequests(int seed)
    {
        Seed = seed;
        _faker = new Faker { Random = new Randomizer(seed) };
    }

    /// <summary>The seed of the run: from <c>CALC_TEST_SEED</c> when set, else a fixed one.</summary>
    public static int DefaultSeed =>
        int.TryParse(Environment.GetEnvironmentVariable("CALC_TEST_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed) ? seed : 20261202;

    public int Seed { get; }

    /// <summary>The Bogus faker of the run (for values a test makes itself, like path ids).</summary>
    public Faker Faker => _faker;

    /// <summary><paramref name="count"/> requests for a body of <paramref name="fields"/>, about a quarter of them valid.</summary>
    public IEnumerable<GeneratedRequest> For(IReadOnlyList<FieldSpec> fields, int count)
    {
        ArgumentNullException.ThrowIfNull(fields);
        for (var i = 0; i < count; i++)
        {
            var valid = ValidBody(fields);
            var roll = _faker.Random.Int(0, 99);
            if (roll < 25)
            {
                yield return new($"#{i} valid", valid.ToJsonString(), "application/json", IsValid: true, Field: null);
            }
            else if (roll < 85)
            {
                var field = _faker.PickRandom(fields.ToList());
                var (fault, value, omit) = Break(field);
                if (fault is null)
                {
                    yield return new($"#{i} valid", valid.ToJsonString(), "application/json", IsValid: true, Field: null);
                    continue;
                }

                if (omit)
                {
                    valid.Remove(field.Name);
                }
                else
                {
                    valid[field.Name] = value;
                }

                yield return new($"#{i} {field.Name}: {fault}", valid.ToJsonString(), "application/json", IsValid: false, Field: field.Name);
            }
            else
            {
                var (fault, body, contentType) = BreakJson(valid.ToJsonString());
                yield return new($"#{i} {fault}", body, contentType, IsValid: false, Field: null);
            }
        }
    }

    /// <summary>A short form of a request for a failure message: its case and the first characters of its body.</summary>
    public string Describe(GeneratedRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = request.Body is null ? "(no body)" : request.Body.Length > 300 ? request.Body[..300] + $"… ({request.Body.Length} chars)" : request.Body;
        return $"seed {Seed} (replay: CALC_TEST_SEED={Seed}), case {request.Case}, {request.ContentType}: {body}";
    }

    /// <summary>
    /// Sends <paramref name="generated"/> and checks the answer: never a 5xx; <paramref name="success"/> for a valid
    /// request; a 4xx for an invalid one, and a 400 naming the field when the fault is one field's.
    /// </summary>
    public async Task SendAndCheckAsync(HttpClient http, HttpMethod method, string path, GeneratedRequest generated, HttpStatusCode success, CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(generated);
        using var request = new HttpRequestMessage(method, path);
        if (generated.Body is not null)
        {
            request.Content = new StringContent(generated.Body, Encoding.UTF8);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(generated.ContentType) { CharSet = "utf-8" };
        }

        using var response = await http.SendAsync(request, token);
        var text = await response.Content.ReadAsStringAsync(token);
        var what = $"{Describe(generated)} -> {(int)response.StatusCode}: {(text.Length > 500 ? text[..500] : text)}";
        ((int)response.StatusCode).ShouldBeLessThan(500, what);
        if (generated.IsValid)
        {
            response.StatusCode.ShouldBe(success, what);
            return;
        }

        ((int)response.StatusCode).ShouldBeInRange(400, 499, what);
        if (generated.Field is { } field)
        {
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, what);
            ErrorKeys(text).ShouldContain(k => k == field || k.StartsWith(field + "[", StringComparison.Ordinal) || k.StartsWith(field + ".", StringComparison.Ordinal), what);
        }
    }

    /// <summary>GETs a list query with one generated <paramref name="parameter"/>: 200 when valid, else a 400 naming it.</summary>
    public async Task CheckQueryAsync(HttpClient http, string path, string parameter, bool valid, CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(http);
        using var response = await http.GetAsync(path, token);
        var text = await response.Content.ReadAsStringAsync(token);
        var what = $"seed {Seed} (replay: CALC_TEST_SEED={Seed}), GET {path}: {text}";
        if (valid)
        {
            response.StatusCode.ShouldBe(HttpStatusCode.OK, what);
            return;
        }

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, what);
        ErrorKeys(text).ShouldContain(parameter, what);
    }

    /// <summary>Sends a request to a path with a generated id: it must be 404 (never a 5xx, never found).</summary>
    public async Task CheckNotFoundAsync(HttpClient http, HttpMethod method, string path, CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(http);
        using var request = new HttpRequestMessage(method, path);
        using var response = await http.SendAsync(request, token);
        var text = await response.Content.ReadAsStringAsync(token);
        response.StatusCode.ShouldBe(HttpStatusCode.NotFound, $"seed {Seed} (replay: CALC_TEST_SEED={Seed}), {method} {path[..Math.Min(path.Length, 200)]}: {text}");
    }

    private static List<string> ErrorKeys(string problem) => JsonNode.Parse(problem)!["errors"]!.AsObject().Select(e => e.Key).ToList();

    private JsonObject ValidBody(IReadOnlyList<FieldSpec> fields)
    {
        var body = new JsonObject();
        foreach (var field in fields)
        {
            if (field.Required || _faker.Random.Bool())
            {
                body[field.Name] = ValidValue(field);
            }
        }

        return body;
    }

    private JsonValue ValidValue(FieldSpec field) => (field.Kind switch
    {
        FieldKind.ExactInteger => _faker.Random.Bool()
            ? JsonValue.Create(_faker.Random.Long(-1_000_000_000_000, 1_000_000_000_000))
            : JsonValue.Create((_faker.Random.Bool() ? "-" : "") + _faker.Random.ReplaceNumbers(new string('#', _faker.Random.Int(1, Math.Min(40, field.MaxDigits))))),
        FieldKind.WholeNumber => JsonValue.Create(_faker.Random.Int((int)field.Min, (int)Math.Min(field.Max, int.MaxValue))),
        FieldKind.Money => JsonValue.Create(Math.Round(_faker.Random.Decimal(field.Min, field.Max), 2)),
        FieldKind.Choice => JsonValue.Create(_faker.Random.Bool() ? _faker.PickRandom(field.Allowed.ToList()) : _faker.PickRandom(field.Allowed.ToList()).ToUpperInvariant()),
        _ => JsonValue.Create(field.Valid(_faker)),
    })!;

    // One fault for the field: its description, the value (null to send JSON null) and whether to leave it out.
    private (string? Fault, JsonNode? Value, bool Omit) Break(FieldSpec field)
    {
        var faults = new List<Func<(string?, JsonNode?, bool)>>
        {
            () => ("null", null, false),
            () => ("wrong type: object", new JsonObject { ["x"] = 1 }, false),
            () => ("wrong type: array", new JsonArray(1, 2), false),
            () => ("wrong type: boolean", JsonValue.Create(_faker.Random.Bool()), false),
        };
        if (field.Required)
        {
            faults.Add(() => ("missing", null, true));
        }

        switch (field.Kind)
        {
            case FieldKind.ExactInteger:
                faults.Add(() => ("fraction", JsonValue.Create(_faker.Random.Double(-1000, 1000) + 0.5), false));
                faults.Add(() => ("letters", JsonValue.Create(_faker.Random.AlphaNumeric(6) + "x"), false));
                faults.Add(() => ("too many digits", JsonValue.Create(new string('9', field.MaxDigits + _faker.Random.Int(1, 20_000))), false));
                break;
            case FieldKind.WholeNumber:
            case FieldKind.Money:
                faults.Add(() => ("wrong type: letters", JsonValue.Create(_faker.Lorem.Word() + "!"), false));
                faults.Add(() => ("below the range", JsonValue.Create(field.Min - _faker.Random.Long(1, 1000)), false));
                if (field.Max < long.MaxValue - 1000)
                {
                    faults.Add(() => ("above the range", JsonValue.Create(field.Max + _faker.Random.Long(1, 1000)), false));
                }

                faults.Add(() => ("huge number", JsonNode.Parse("1" + new string('0', _faker.Random.Int(20, 400))), false));
                if (field.Kind == FieldKind.WholeNumber)
                {
                    faults.Add(() => ("fraction", JsonValue.Create(_faker.Random.Int(1, 100) + 0.25), false));
                }
                else
                {
                    faults.Add(() => ("three decimals", JsonValue.Create(_faker.Random.Int(1, 100) + 0.125m), false));
                }

                break;
            case FieldKind.Choice:
                faults.Add(() => ("unknown choice", JsonValue.Create(_faker.Lorem.Word() + "-" + _faker.Random.AlphaNumeric(4)), false));
                faults.Add(() => ("huge string", JsonValue.Create(new string('a', HugeLength)), false));
                faults.Add(() => ("wrong type: number", JsonValue.Create(_faker.Random.Int()), false));
                break;
            default:
                faults.Add(() => ("huge string", JsonValue.Create(_faker.Random.String2(HugeLength)), false));
                faults.Add(() => ("wrong type: number", JsonValue.Create(_faker.Random.Int()), false));
                break;
        }

        var (fault, value, omit) = _faker.PickRandom(faults)();
        // JSON null is valid for an optional field: absent.
        return fault == "null" && !field.Required ? (null, null, false) : (fault, value, omit);
    }

    private (string Fault, string? Body, string ContentType) BreakJson(string valid) => _faker.Random.Int(0, 6) switch
    {
        0 => ("truncated JSON", valid[..Math.Max(1, _faker.Random.Int(1, valid.Length - 1))], "application/json"),
        1 => ("trailing garbage", valid + _faker.Random.String2(3, "x}]\"\\"), "application/json"),
        2 => ("random bytes", Encoding.Latin1.GetString(_faker.Random.Bytes(_faker.Random.Int(1, 64))), "application/json"),
        3 => ("JSON null", "null", "application/json"),
        4 => ("JSON array", JsonSerializer.Serialize(new[] { valid }), "application/json"),
        5 => ("no body", null, "application/json"),
        _ => ("not JSON by content type", valid, _faker.PickRandom("text/plain", "application/xml", "application/x-www-form-urlencoded")),
    };
}
