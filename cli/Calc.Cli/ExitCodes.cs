namespace Calc.Cli;

/// <summary>What <c>calc</c> exits with, so that scripts can tell outcomes apart (README: "The calc CLI").</summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked; watched work ended <c>done</c>.</summary>
    public const int Ok = 0;

    /// <summary>Watched work ended <c>failed</c>, <c>timed_out</c> or <c>cancelled</c>, or watching gave up (<c>--within</c>).</summary>
    public const int WorkFailed = 1;

    /// <summary>A usage error: bad command line, or the API refused the request (400, 404, 409, 413: fix the request).</summary>
    public const int Usage = 2;

    /// <summary>The system could not serve: gateway unreachable or timing out, 503 (no capacity), 429, other 5xx.</summary>
    public const int Unavailable = 3;
}
