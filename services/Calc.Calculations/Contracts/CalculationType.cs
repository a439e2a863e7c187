namespace Calc.Calculations.Contracts;

/// <summary>What a calculation computes from its initial value and terms, exactly.</summary>
public enum CalculationType
{
    /// <summary>init + term1 + term2 + ...</summary>
    Addition,

    /// <summary>init - term1 - term2 - ...</summary>
    Subtraction,

    /// <summary>init × term1 × term2 × ...</summary>
    Multiplication,

    /// <summary>init ÷ term1 ÷ term2 ÷ ..., as an exact fraction (never rounded).</summary>
    Division,

    /// <summary>((init ^ term1) ^ term2) ...; a negative exponent gives an exact fraction.</summary>
    Power,

    /// <summary>init! (takes no terms).</summary>
    Factorial,
}
