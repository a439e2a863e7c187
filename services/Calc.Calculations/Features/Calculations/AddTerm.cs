using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Calc.Calculations.Contracts;
using Calc.Calculations.Domain;
using Calc.Core.Contracts;
using Calc.Core.Hosting;
using Calc.Core.Idempotency;
using Calc.Core.Validation;
using Calc.Data;
using FastEndpoints;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Calc.Calculations.Features.Calculations;

/// <summary>PUT /calculations/{id}: adds one term to a building calculation.</summary>
/// <param name="Term">An integer (JSON number or string of digits).</param>
public sealed record AddTermRequest(JsonElement? Term);

/// <summary>
/// PUT /calculations/{id}: the term is appended, so this PUT is not idempotent by itself. With an
/// <c>Idempotency-Key</c> (the gateway attaches one to every PUT that has none, the same on each of its attempts), a
/// key the calculation already applied answers 200 with the calculation as it is and adds nothing; the key with a
/// different term is a 422. The keys are remembered in the calculation itself (<see cref="Calculation.TermKeys"/>),
/// for as long as it exists.
/// </summary>
internal sealed class AddTerm(
    IDocumentRepository<Calculation> repository, IdempotencyKeys idempotencyKeys, RecentCopies copies, IOptions<CalculationsOptions> options)
    : JsonBodyEndpoint<AddTermRequest, Results<Ok<CalculationResponse>, ValidationProblem, ProblemHttpResult>>
{
    public override void Configure()
    {
        Put("/calculations/{id}");
        FromJsonBody();
        Description(b => b.WithName("AddTerm").WithTags("Calculations")
            .WithSummary("Adds a term to a calculation that is still building.").ProducesValidationProblem());
    }

    public override async Task<Results<Ok<CalculationResponse>, ValidationProblem, ProblemHttpResult>> ExecuteAsync(AddTermRequest request, CancellationToken ct)
    {
        var id = Route<string>("id")!;
        var httpContext = HttpContext;
        if (!idempotencyKeys.TryReadKey(httpContext, out var key, out var invalidKey))
        {
            return invalidKey;
        }

        ExactInteger.TryRead(request.Term, options.Value.MaxInputDigits, out var term, out _);
        var normalized = ExactInteger.Normalize(term);
        var refusal = (IResult?)null;
        var replayed = false;
        Calculation? AddTheTerm(Calculation c)
        {
            // Checked first, whatever the state: the term this key added may since have been finalized with the rest.
            var applied = key is null ? null : c.TermKeys.FirstOrDefault(k => k.Key == key);
            replayed = applied is not null && c.Terms[applied.Term] == normalized;
            refusal = c switch
            {
                _ when replayed => null,
                _ when applied is not null => TypedResults.Problem(
                    statusCode: StatusCodes.Status422UnprocessableEntity,
                    title: "Idempotency-Key reused",
                    detail: $"This {IdempotencyKeys.HeaderName} added a different term (term {applied.Term + 1}) to this calculation; send a new key for a new term."),
                { Type: CalculationType.Factorial } => TypedResults.ValidationProblem(
                    new Dictionary<string, string[]> { ["term"] = ["A factorial takes no terms: its value is init!."] }),
                { Status: not CalculationStatus.Building } => Problems.WrongState(
                    $"The calculation is {WireNames<CalculationStatus>.Of(c.Status)}; terms can only be added while it is building."),
                _ when c.Terms.Count >= options.Value.MaxTerms => Problems.WrongState(
                    $"The calculation already has {c.Terms.Count} terms, the most allowed (Calculations:MaxTerms)."),
                { Type: CalculationType.Power } when PowerSize.EstimateBits(
                        BigInteger.Parse(c.Init, CultureInfo.InvariantCulture), [.. c.Terms, normalized], options.Value.MaxResultBits) is null
                    => TypedResults.ValidationProblem(new Dictionary<string, string[]>
                    {
                        ["term"] = [$"'term' ({normalized.Length} characters) would make the power's result larger than {options.Value.MaxResultBits} bits (Calculations:MaxResultBits)."],
                    }),
                _ => null,
            };
            if (refusal is not null || replayed)
            {
                return null;
            }

            return c with
            {
                Terms = [.. c.Terms, normalized],
                TermKeys = key is null ? c.TermKeys : [.. c.TermKeys, new AppliedTermKey(key, c.Terms.Count)],
            };
        }

        // From the copy this instance stored last, when it has one: then one versioned write (see RecentCopies).
        var result = copies.Take(id) is { } copy
            ? await repository.ChangeAsync(copy, AddTheTerm, ct)
            : await repository.ChangeAsync(id, AddTheTerm, ct);
        if (result is not null)
        {
            copies.Keep(result.Stored);
        }

        if (result is not null && replayed)
        {
            IdempotencyKeys.MarkReplayed(httpContext);
        }

        return (result, refusal) switch
        {
            (null, _) => Problems.NotFound(id),
            (_, ValidationProblem invalid) => invalid,
            (_, ProblemHttpResult problem) => problem,
            _ => TypedResults.Ok(result.Document.ToResponse()),
        };
    }
}

internal sealed class AddTermValidator : Validator<AddTermRequest>
{
    // The limit is read at each validation, from the app the request came to (see CreateCalculationValidator).
    public AddTermValidator() =>
        RuleFor(r => r.Term).Custom((term, context) =>
        {
            if (!ExactInteger.TryRead(term, Resolve<IOptions<CalculationsOptions>>().Value.MaxInputDigits, out _, out var error))
            {
                context.AddFailure("term", $"'term' {error}");
            }
        });
}
