using System.Text.Json;
using Calc.Calculations.Contracts;
using Calc.Calculations.Domain;
using Calc.Core.Callbacks;
using Calc.Core.Contracts;
using Calc.Core.Hosting;
using Calc.Core.Idempotency;
using Calc.Core.Scheduling;
using Calc.Core.Validation;
using Calc.Data;
using FastEndpoints;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Calc.Calculations.Features.Calculations;

/// <summary>POST /calculations: a new calculation, building, ready for terms.</summary>
/// <param name="Type">addition, subtraction, multiplication, division, power or factorial.</param>
/// <param name="Init">The initial value: an integer (JSON number or string of digits).</param>
/// <param name="Priority">normal (default) or high.</param>
/// <param name="TimeoutSeconds">How long processing may take; the service default when absent.</param>
/// <param name="CallbackUrl">An http(s) URL to post the result to when it is final (on a host of <c>Callbacks:AllowedHosts</c> when that is set).</param>
public sealed record CreateCalculationRequest(string? Type, JsonElement? Init, string? Priority, int? TimeoutSeconds, string? CallbackUrl);

/// <summary>
/// POST /calculations: 201 with the new calculation. With an <c>Idempotency-Key</c>, the same key and request again
/// (within <c>Idempotency:KeyLifetime</c>) answer 201 with that same calculation as it is now, marked
/// <c>Idempotent-Replayed: true</c>, instead of making a second one; a different request with the key is a 422.
/// </summary>
internal sealed class CreateCalculation(
    IDocumentRepository<Calculation> repository,
    CallbackOutbox callbacks,
    IdempotencyKeys idempotencyKeys,
    RecentCopies copies,
    IOptions<CalculationsOptions> options,
    TimeProvider time)
    : JsonBodyEndpoint<CreateCalculationRequest, Results<Created<CalculationResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Post("/calculations");
        FromJsonBody();
        Description(b => b.WithName("CreateCalculation").WithTags("Calculations")
            .WithSummary("Creates a calculation in the building state.").ProducesValidationProblem());
    }

    public override async Task<Results<Created<CalculationResponse>, ProblemHttpResult>> ExecuteAsync(CreateCalculationRequest request, CancellationToken ct)
    {
        var httpContext = HttpContext;
        var claim = await idempotencyKeys.ClaimAsync(httpContext, "create-calculation", request, Guid.CreateVersion7().ToString("N"), ct);
        if (claim.Refusal is { } refusal)
        {
            return refusal;
        }

        if (claim.IsKeyed && await repository.LoadAsync(claim.ResourceId, ct) is { } earlier)
        {
            return await ReplayAsync(earlier.Document, claim, httpContext, callbacks, ct);
        }

        ExactInteger.TryRead(request.Init, options.Value.MaxInputDigits, out var init, out _);
        var calculation = new Calculation
        {
            Id = claim.ResourceId,
            Type = WireNames<CalculationType>.Parse(request.Type!),
            Init = ExactInteger.Normalize(init),
            Priority = WorkRequestRules.ParsePriority(request.Priority),
            TimeoutSeconds = request.TimeoutSeconds ?? options.Value.DefaultTimeoutSeconds,
            CallbackUrl = request.CallbackUrl,
            RequestId = httpContext.TraceIdentifier,
            IdempotencyKey = claim.KeyId,
            CreatedAt = time.GetUtcNow(),
        };

        // The delivery first: should this process stop before the calculation is stored, the sweep drops it. Under a
        // key, an earlier request with it (whose instance stopped, or which runs alongside) may have registered it.
        if (calculation.CallbackUrl is { } url && !await callbacks.RegisterAsync(calculation.Id, url, calculation.RequestId, null, ct)
            && !claim.IsKeyed)
        {
            throw new InvalidOperationException("A new calculation id collided with a stored callback.");
        }

        var write = await repository.InsertAsync(calculation.Id, calculation, cancellationToken: ct);
        if (!write.Succeeded)
        {
            // Under a key, a concurrent request with it stored the calculation first: one calculation, both answer it.
            if (claim.IsKeyed && await repository.LoadAsync(calculation.Id, ct) is { } concurrent)
            {
                return await ReplayAsync(concurrent.Document, claim, httpContext, callbacks, ct);
            }

            throw new InvalidOperationException($"A new calculation id collided ({write.Status}).");
        }

        copies.Keep(write.Stored!);
        var callback = calculation.CallbackUrl is null ? null : await callbacks.GetStatusAsync(calculation.Id, ct);
        return TypedResults.Created($"/calculations/{calculation.Id}", calculation.ToResponse(callback: callback));
    }

    // The first request's answer again (201), with the calculation as it stands now.
    private static async Task<Results<Created<CalculationResponse>, ProblemHttpResult>> ReplayAsync(
        Calculation calculation, IdempotencyClaim claim, HttpContext httpContext, CallbackOutbox callbacks, CancellationToken cancellationToken)
    {
        if (calculation.IdempotencyKey != claim.KeyId)
        {
            throw new InvalidOperationException($"Calculation {calculation.Id} is not the one its Idempotency-Key made.");
        }

        IdempotencyKeys.MarkReplayed(httpContext);
        var callback = calculation.CallbackUrl is null ? null : await callbacks.GetStatusAsync(calculation.Id, cancellationToken);
        return TypedResults.Created($"/calculations/{calculation.Id}", calculation.ToResponse(callback: callback));
    }
}

internal sealed class CreateCalculationValidator : Validator<CreateCalculationRequest>
{
    // Limits are read at each validation, from the app the request came to: FastEndpoints builds one validator for
    // every app in the process (tests host several, each with its own configuration).
    public CreateCalculationValidator()
    {
        RuleFor(r => r.Type)
            .Cascade(CascadeMode.Stop)
            .NotEmpty()
            .Must(t => WireNames<CalculationType>.TryParse(t, out _))
            .WithMessage($"'type' must be one of: {string.Join(", ", WireNames<CalculationType>.All)}.");

        RuleFor(r => r.Init).Custom((init, context) =>
        {
            var limits = Limits;
            if (!ExactInteger.TryRead(init, limits.MaxInputDigits, out var value, out var error))
            {
                context.AddFailure("init", $"'init' {error}");
            }
            else if (context.InstanceToValidate.Type is { } type
                && WireNames<CalculationType>.TryParse(type, out var kind) && kind == CalculationType.Factorial
                && (value.Sign < 0 || value > limits.MaxFactorialN))
            {
                context.AddFailure("init", $"'init' of a factorial must be between 0 and {limits.MaxFactorialN} (Calculations:MaxFactorialN).");
            }
        });

        RuleFor(r => r.Priority).MustBeAPriority();

        RuleFor(r => r.TimeoutSeconds).MustBeATimeout(() => Limits.MaxTimeoutSeconds);

        RuleFor(r => r.CallbackUrl).MustBeACallbackUrl(() => Resolve<IOptions<CallbackOptions>>().Value);
    }

    private CalculationsOptions Limits => Resolve<IOptions<CalculationsOptions>>().Value;
}
