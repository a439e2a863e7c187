using FluentValidation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Calc.Core.Validation;

/// <summary>Wiring for request validation.</summary>
public static class ValidationExtensions
{
    /// <summary>Validates the endpoint's <typeparamref name="T"/> argument before the handler runs (400 on failure).</summary>
    public static RouteHandlerBuilder Validate<T>(this RouteHandlerBuilder builder) where T : class =>
        builder.AddEndpointFilter<ValidationFilter<T>>().ProducesValidationProblem();

    /// <summary>Registers a validator (FluentValidation's DI package is not used: one line per validator is enough).</summary>
    public static IServiceCollection AddValidator<T, TValidator>(this IServiceCollection services)
        where TValidator : class, IValidator<T> =>
        services.AddSingleton<IValidator<T>, TValidator>();
}
