using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Calc.Calculations.Domain;
using Calc.Contracts;
using Calc.Data;
using Calc.Validation;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Calc.Calculations.Features.Calculations;

/// <summary>PUT /calculations/{id}: adds one term to a building calculation.</summary>
/// <param name="Term">An integer (JSON number or string of digits).</param>
public sealed record AddTermRequest(JsonElement? Term);

internal static class AddTerm
{
    public static void MapAddTerm(this RouteGroupBuilder group) =>
        group.MapPut("/{id}", HandleAsync)
            .Validate<AddTermRequest>()
            .WithName("AddTerm")
            .WithSummary("Adds a term to a calculation that is still building.");

    private static async Task<Results<Ok<CalculationResponse>, ValidationProblem, ProblemHttpResult>> HandleAsync(
        string id,
        AddTermRequest request,
        IDocumentRepository<Calculation> repository,
        IOptions<CalculationsOptions> options,
        CancellationToken cancellationToken)
    {
        ExactInteger.TryRead(request.Term, options.Value.MaxInputDigits, out var term, out _);
        var normalized = ExactInteger.Normalize(term);
        var refusal = (IResult?)null;
        var result = await repository.ChangeAsync(id, c =>
        {
            refusal = c switch
            {
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
            return refusal is null ? c with { Terms = [.. c.Terms, normalized] } : null;
        }, cancellationToken);

        return (result, refusal) switch
        {
            (null, _) => Problems.NotFound(id),
            (_, ValidationProblem invalid) => invalid,
            (_, ProblemHttpResult problem) => problem,
            _ => TypedResults.Ok(result.Document.ToResponse()),
        };
    }
}

internal sealed class AddTermValidator : AbstractValidator<AddTermRequest>
{
    public AddTermValidator(IOptions<CalculationsOptions> options) =>
        RuleFor(r => r.Term).Custom((term, context) =>
        {
            if (!ExactInteger.TryRead(term, options.Value.MaxInputDigits, out _, out var error))
            {
                context.AddFailure("term", $"'term' {error}");
            }
        });
}
