using Calc.Core.Callbacks;
using Calc.Core.Contracts;
using Calc.Core.Scheduling;
using FluentValidation;

namespace Calc.Core.Validation;

/// <summary>
/// The rules every request that submits work shares (calculations, budget and fetch jobs), so the same field gets the
/// same message in every service.
/// </summary>
public static class WorkRequestRules
{
    /// <summary><c>priority</c>: absent, <c>normal</c> or <c>high</c>.</summary>
    public static IRuleBuilderOptions<T, string?> MustBeAPriority<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(p => p is null || WireNames<WorkPriority>.TryParse(p, out _))
            .WithMessage("'priority' must be normal or high.");

    /// <summary>
    /// The priority a request asked for: <see cref="WorkPriority.Normal"/> when absent. Call it only on a value
    /// <see cref="MustBeAPriority"/> accepted (an unknown name throws).
    /// </summary>
    public static WorkPriority ParsePriority(string? wire) =>
        wire is null ? WorkPriority.Normal : WireNames<WorkPriority>.Parse(wire);

    /// <summary>
    /// <c>timeoutSeconds</c>: absent, or 1 to <paramref name="maxSeconds"/>, read at each validation (the limit is the
    /// configuration of the app the request came to, not of the one that built the validator).
    /// </summary>
    public static IRuleBuilderOptionsConditions<T, int?> MustBeATimeout<T>(this IRuleBuilder<T, int?> rule, Func<int> maxSeconds) =>
        rule.Custom((timeout, context) =>
        {
            var max = maxSeconds();
            if (timeout is not null && (timeout < 1 || timeout > max))
            {
                context.AddFailure("timeoutSeconds", $"'timeoutSeconds' must be between 1 and {max}.");
            }
        });

    /// <summary>
    /// <c>callbackUrl</c>: absent (unless <paramref name="required"/> says why it is needed), or a URL
    /// <see cref="CallbackUrls.Check"/> accepts under <paramref name="options"/>, read at each validation.
    /// </summary>
    public static IRuleBuilderOptionsConditions<T, string?> MustBeACallbackUrl<T>(this IRuleBuilder<T, string?> rule, Func<CallbackOptions> options, string? required = null) =>
        rule.Custom((url, context) =>
        {
            if (url is null)
            {
                if (required is not null)
                {
                    context.AddFailure("callbackUrl", required);
                }
            }
            else if (CallbackUrls.Check(url, options()) is { } error)
            {
                context.AddFailure("callbackUrl", error);
            }
        });
}
